// P7: 64 live falinfer streams in one process sharing one client, 5
// requests/s each, against `gst-fal serve` (bench-scale): results delivered,
// client CPU per request (the process with falinfer minus the same pipelines
// without it, over the completed requests), longest frame gap. There is no
// JS counterpart; the figures stand against their goals.
//   node p7-scale.mjs [--streams 64] [--rate 5] [--seconds 20]
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { flags, startServer, sample, fmt, table, writeResults, build, KEY } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ streams: 64, rate: 5, seconds: 20 });
const server = await startServer({ workers: 8 });
const server0 = sample(server.pid);
let text;
try {
  text = execFileSync(join(build, "bench", "bench-scale"), ["--url", server.url, "--key", KEY,
    "--streams", String(opt.streams), "--rate", String(opt.rate), "--seconds", String(opt.seconds)]).toString();
} catch (error) {
  text = error.stdout?.toString() ?? "";
  console.error(`  bench-scale failed (${error.status}); its figures as far as they go`);
}
const server1 = sample(server.pid);
await server.stop();
const r = JSON.parse(text);
const f = r.falinfer, alone = r.alone;
const expected = opt.streams * opt.rate * opt.seconds;
const cpuPerRequestMs = (f.cpu_us - alone.cpu_us) / f.completed / 1000;
const serverPerRequestUs = (server1.cpu_us - server0.cpu_us) / f.completed;
console.error(`  ${f.completed}/${f.submitted} completed, ${fmt(cpuPerRequestMs, 3)} ms CPU per request`);

const everyResult = f.completed === f.submitted && f.failed === 0 && f.ok;
const md = [`### P7 ${opt.streams} live falinfer streams × ${opt.rate} req/s, one client, ${opt.seconds} s ` +
  "(local/echo, ordering=live, requests carry {\"index\"} only)", "",
  table(["figure", "value", "goal"], [
    ["requests submitted (expected ≈ streams × rate × seconds)", `${f.submitted} (${expected})`, ""],
    ["completed / failed / skipped", `${f.completed} / ${f.failed} / ${f.skipped}`, "every result delivered: " + (everyResult ? "met" : "missed")],
    ["results seen on frames at the sinks", `${f.results} (${f.completed - f.results} completed after each stream's last frame)`, ""],
    ["client CPU per request, ms (with − without falinfer)", fmt(cpuPerRequestMs, 3), "≤ 0.25"],
    ["client CPU, with / without falinfer, s", `${fmt(f.cpu_us / 1e6)} / ${fmt(alone.cpu_us / 1e6)}`, ""],
    ["server CPU per request, µs", fmt(serverPerRequestUs, 0), ""],
    ["longest frame gap, ms (with / without falinfer; frames every 100 ms)",
      `${fmt(f.longest_gap_us / 1000, 1)} / ${fmt(alone.longest_gap_us / 1000, 1)}`, ""],
    ["frames at the sinks (with / without)", `${f.frames} / ${alone.frames}`, ""],
  ])].join("\n");
const svg = chart({ title: `P7: ${opt.streams} falinfer streams × ${opt.rate} req/s on one client`, legend: ["ours"], panels: [
  { title: "client CPU per request vs the 0.25 ms goal", unit: "ms", log: false,
    rows: [{ label: "per request", items: [{ name: "ours", value: cpuPerRequestMs, text: `${fmt(cpuPerRequestMs, 3)} ms` }] },
      { label: "goal", items: [{ name: "goal", value: 0.25, text: "0.25 ms" }] }] },
  { title: "longest gap between two frames of a stream", unit: "ms", log: false,
    rows: [{ label: "with falinfer", items: [{ name: "ours", value: f.longest_gap_us / 1000 }] },
      { label: "without", items: [{ name: "server", value: alone.longest_gap_us / 1000 }] }] },
] });
writeResults("p7-scale", { ...r, cpu_per_request_ms: cpuPerRequestMs, server_cpu_per_request_us: serverPerRequestUs,
  every_result_delivered: everyResult, options: opt }, svg, md);
