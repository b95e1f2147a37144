// P6: upload throughput of a 100 MiB file to one `gst-fal serve`: our client
// (gst_fal_client_upload_bytes(): the multipart flow above 90 MiB), fal's JS
// client (fal.storage.upload, multipart too) and `curl -T` to the upload URL
// that POST /rest/storage/upload/initiate returns (one PUT), interleaved.
// Needs curl (Debian package `curl`); /usr/bin/time for curl's CPU, if any.
//   node p6-upload.mjs [--mib 100] [--rounds 3]
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { flags, startServer, runDriver, median, ratio, fmt, fmtRatio, table, writeResults, tmpDir, KEY } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ mib: 100, rounds: 3 });
const file = join(tmpDir(), `upload-${opt.mib}MiB.bin`);
writeFileSync(file, randomBytes(opt.mib * 1024 * 1024));
const server = await startServer({ workers: 2 });
const CLIENTS = ["ours", "js", "curl"];
const runs = { ours: [], js: [], curl: [] };

async function curl() {
  const initiate = await fetch(`${server.url}/rest/storage/upload/initiate?storage_type=fal-cdn-v3`, {
    method: "POST", headers: { Authorization: `Key ${KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ content_type: "application/octet-stream", file_name: "bench.bin" }) });
  const { upload_url: uploadUrl } = await initiate.json();
  const timed = existsSync("/usr/bin/time") ? ["/usr/bin/time", "-f", "%U %S"] : [];
  const argv = [...timed, "curl", "-sS", "-T", file, "-H", "Content-Type: application/octet-stream",
    "-o", "/dev/null", "-w", "%{time_total} %{http_code}\n", uploadUrl];
  const start = process.hrtime.bigint();
  const out = spawnSync(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const [, code] = out.stdout.toString().trim().split(" ");
  const times = /([\d.]+) ([\d.]+)\s*$/.exec(out.stderr.toString());
  return { wall_us: wall, failed: code === "200" ? 0 : 1,
    cpu_us: times ? (Number(times[1]) + Number(times[2])) * 1e6 : NaN };
}

for (let round = 0; round < opt.rounds; round++) {
  const order = round % 2 ? [...CLIENTS].reverse() : CLIENTS;
  for (const client of order) {
    let r;
    if (client === "curl") {
      r = await curl();
    } else {
      const done = await runDriver(client, ["--url", server.url, "--key", KEY, "--mode", "upload",
        "--file", file, "-n", 1, "--warmup", 0]);
      r = { wall_us: done.lat_us[0], failed: done.failed, cpu_us: done.cpu_us };
    }
    r.mib_s = opt.mib / (r.wall_us / 1e6);
    runs[client].push(r);
    console.error(`  round ${round + 1} ${client}: ${fmt(r.mib_s, 0)} MiB/s, CPU ${fmt(r.cpu_us / 1000, 0)} ms, failed ${r.failed}`);
    rmSync(server.storage, { recursive: true, force: true });
  }
}
await server.stop();
rmSync(file, { force: true });

const f = Object.fromEntries(CLIENTS.map((c) => [c, {
  mib_s: median(runs[c].map((r) => r.mib_s)), cpu_ms: median(runs[c].map((r) => r.cpu_us / 1000)),
  failed: runs[c].reduce((a, r) => a + r.failed, 0) }]));
const md = [`### P6 upload of ${opt.mib} MiB to gst-fal serve (${opt.rounds} rounds, medians)`, "",
  table(["client", "MiB/s", "vs curl -T", "vs @fal-ai/client", "client CPU, ms", "failed"],
    CLIENTS.map((c) => [c === "ours" ? "gst-fal (multipart)" : c === "js" ? "@fal-ai/client (multipart)" : "curl -T (one PUT)",
      fmt(f[c].mib_s, 0), fmtRatio(ratio(f[c].mib_s, f.curl.mib_s)), fmtRatio(ratio(f[c].mib_s, f.js.mib_s)),
      fmt(f[c].cpu_ms, 0), f[c].failed]))].join("\n");
const svg = chart({ title: `P6: upload of ${opt.mib} MiB`, legend: CLIENTS, panels: [
  { title: "throughput (median of rounds)", unit: "MiB/s", log: false,
    rows: [{ label: `${opt.mib} MiB`, items: CLIENTS.map((c) => ({ name: c, value: f[c].mib_s, text: `${fmt(f[c].mib_s, 0)} MiB/s` })) }] },
  { title: "client CPU per upload (curl: from /usr/bin/time)", unit: "ms", log: false,
    rows: [{ label: `${opt.mib} MiB`, items: CLIENTS.map((c) => ({ name: c, value: f[c].cpu_ms, text: `${fmt(f[c].cpu_ms, 0)} ms` })) }] },
] });
writeResults("p6-upload", { figures: f, runs, options: opt }, svg, md);
