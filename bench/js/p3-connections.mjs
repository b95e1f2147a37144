// P3: new connections per request lifecycle (counted by bench-proxy in front
// of one `gst-fal serve`), and round trips per subscribe and per run through
// a proxy adding 2 × 10 ms per round trip (and one per new connection, as
// TCP's handshake); the same over TLS when `gst-fal serve` has
// --tls-certificate. Also connections per falinfer frame with upload=cdn.
//   node p3-connections.mjs [--n 1000] [--rt-n 50] [--delay-ms 10] [--frames-seconds 20]
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { flags, startServer, startProxy, runDriver, serveSupports, median, ratio, fmt, fmtRatio,
  table, writeResults, tmpDir, existsSync, build, KEY } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ n: 1000, rtN: 50, delayMs: 10, framesSeconds: 20 });
const CLIENTS = ["ours", "js"];
const RTT_US = 2 * opt.delayMs * 1000;

// one driver run through @proxy: new connections per request, p50 latency
async function measure(client, proxy, mode, n, inFlight, env) {
  let before;
  const done = await runDriver(client, ["--url", proxy.url, "--key", KEY, "--mode", mode,
    "--app", "local/echo", "--input", "{}", "-n", n, "--in-flight", inFlight,
    "--warmup", Math.min(20, n)], {
    ready: async () => { before = await proxy.counts(); return {}; },
    done: async () => ({ proxy: await proxy.counts() }),
  }, env);
  return { conns: (done.end.proxy.accepted - before.accepted) / n, p50_us: median(done.lat_us),
    cpu_us: done.cpu_us / n, failed: done.failed };
}

// every figure for one server (plain or TLS)
async function suite(label, tls, env) {
  const server = await startServer({ workers: 8, tls });
  const direct = await startProxy(server.url, 0);
  const delayed = await startProxy(server.url, opt.delayMs);
  const out = { label, url: server.url };
  for (const client of CLIENTS) {
    const c = {};
    c.subscribe = await measure(client, direct, "subscribe", opt.n, 1, env);
    c.subscribe32 = await measure(client, direct, "subscribe", opt.n, 32, env);
    c.run = await measure(client, direct, "run", opt.n, 1, env);
    const subscribe = await measure(client, delayed, "subscribe", opt.rtN, 1, env);
    const run = await measure(client, delayed, "run", opt.rtN, 1, env);
    c.subscribe_delayed_ms = subscribe.p50_us / 1000;
    c.run_delayed_ms = run.p50_us / 1000;
    c.subscribe_rt = (subscribe.p50_us - c.subscribe.p50_us) / RTT_US;
    c.run_rt = (run.p50_us - c.run.p50_us) / RTT_US;
    c.failed = [c.subscribe, c.subscribe32, c.run, subscribe, run].reduce((a, m) => a + m.failed, 0);
    out[client] = c;
    console.error(`  ${label} ${client}: ${fmt(c.subscribe.conns)} conns/subscribe, ` +
      `${fmt(c.run.conns)} /run, ${fmt(c.subscribe_rt)} RT/subscribe, ${fmt(c.run_rt)} RT/run, failed ${c.failed}`);
  }
  if (!tls) {
    // falinfer, one live stream, frames uploaded to the CDN, through the proxy
    const before = await direct.counts();
    const text = execFileSync(join(build, "bench", "bench-scale"), ["--url", direct.url, "--key", KEY,
      "--streams", "1", "--seconds", String(opt.framesSeconds), "--upload", "cdn"]).toString();
    const scale = JSON.parse(text);
    const after = await direct.counts();
    out.falinfer_cdn = { frames: scale.falinfer.completed, failed: scale.falinfer.failed,
      conns: (after.accepted - before.accepted) / scale.falinfer.completed };
    console.error(`  falinfer upload=cdn: ${fmt(out.falinfer_cdn.conns)} conns/frame`);
  }
  direct.stop();
  delayed.stop();
  await server.stop();
  return out;
}

function tlsFiles() {
  const dir = join(process.env.BENCH_SRC ?? join(build, ".."), "tests", "files", "tls");
  if (existsSync(join(dir, "server.pem")))
    return { cert: join(dir, "server.pem"), key: join(dir, "server-key.pem"), ca: join(dir, "ca.pem") };
  const tmp = tmpDir();
  const files = { cert: join(tmp, "cert.pem"), key: join(tmp, "key.pem") };
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
    "-nodes", "-keyout", files.key, "-out", files.cert, "-days", "3650", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
  return { ...files, ca: files.cert };
}

const plain = await suite("http", null, {});
let tls = null, tlsNote = null;
if (serveSupports("--tls-certificate")) {
  const files = tlsFiles();
  tls = await suite("https", files, { GST_FAL_CA_FILE: files.ca, NODE_EXTRA_CA_CERTS: files.ca });
} else {
  tlsNote = "skipped: this gst-fal serve has no --tls-certificate";
  console.error(`  TLS ${tlsNote}`);
}

const rows = [];
for (const s of [plain, tls].filter(Boolean)) {
  const t = s.label === "https" ? " (TLS)" : "";
  // a client with failures shows no figure of that server: they would be
  // those of its errors (e.g. a certificate our client was not given)
  const value = (c, f, digits) => (c.failed ? `— (${c.failed} failed)` : fmt(f(c), digits));
  const row = (name, f, goal, digits = 2) => rows.push([name + t, value(s.ours, f, digits), value(s.js, f, digits),
    s.ours.failed || s.js.failed ? "" : fmtRatio(ratio(f(s.ours), f(s.js))), goal]);
  row("new connections per subscribe, 1 in flight", (c) => c.subscribe.conns, s.label === "https" ? "" : "≤ 0.05");
  row("new connections per subscribe, 32 in flight", (c) => c.subscribe32.conns, "");
  row("new connections per run", (c) => c.run.conns, "");
  if (s.label === "https")
    row("TLS handshakes per 1 000 subscribes", (c) => c.subscribe.conns * 1000, "≤ 5", 0);
  row(`subscribe through the ${2 * opt.delayMs} ms proxy, ms`, (c) => c.subscribe_delayed_ms, "", 1);
  row("subscribe round trips", (c) => c.subscribe_rt, "≤ 3.2");
  row(`run through the ${2 * opt.delayMs} ms proxy, ms`, (c) => c.run_delayed_ms, "", 1);
  row("run round trips", (c) => c.run_rt, "≤ 1.1");
  row("client CPU per subscribe, µs (through the proxy)", (c) => c.subscribe.cpu_us, "", 0);
  rows.push(["failed requests" + t, String(s.ours.failed), String(s.js.failed), "", ""]);
}
rows.push(["new connections per falinfer frame, upload=cdn", fmt(plain.falinfer_cdn.conns), "", "",
  `≤ 0.1 (${plain.falinfer_cdn.frames} frames, ${plain.falinfer_cdn.failed} failed)`]);
const md = [`### P3 connections and round trips (N = ${opt.n}; round trips: N = ${opt.rtN}, ` +
  `p50 through the ${2 * opt.delayMs} ms proxy minus p50 without delay, over ${2 * opt.delayMs} ms)`, "",
  table(["figure", "gst-fal", "@fal-ai/client", "ratio", "goal"], rows),
  tlsNote ? `\nTLS ${tlsNote}.` : ""].join("\n");

const panelFor = (title, f, unit) => ({ title, unit, log: false,
  rows: [plain, tls].filter(Boolean).map((s) => ({ label: s.label, items: CLIENTS.map((c) => ({ name: c,
    value: s[c].failed ? NaN : f(s[c]), text: s[c].failed ? "failed" : fmt(f(s[c])) })) })) });
const svg = chart({ title: "P3: connections and round trips, gst-fal vs @fal-ai/client", legend: CLIENTS,
  panels: [
    panelFor("new connections per subscribe (1 in flight)", (c) => c.subscribe.conns, "connections"),
    panelFor("new connections per run", (c) => c.run.conns, "connections"),
    panelFor(`round trips per subscribe (${2 * opt.delayMs} ms proxy)`, (c) => c.subscribe_rt, "round trips"),
    panelFor(`round trips per run (${2 * opt.delayMs} ms proxy)`, (c) => c.run_rt, "round trips"),
  ] });
writeResults("p3-connections", { plain, tls, tls_note: tlsNote, options: opt }, svg, md);
