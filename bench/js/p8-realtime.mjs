// P8: the realtime websocket against one `gst-fal serve`: a local/echo round
// trip (a message with a binary "frame", one at a time) through our
// GstFalRealtime and through fal.realtime of @fal-ai/client, and a sync
// `run` of local/echo by our client beside them, rounds interleaved with the
// order alternating. Figures are medians over rounds:
//   client CPU per message, ours / JS (issue 11 goal ≤ 0.25×);
//   round-trip p50, our realtime / our sync run (goal ≤ 0.5×);
//   new connections per message after the first, ours (goal 0).
//   node p8-realtime.mjs [--n 2000] [--rounds 3] [--warmup 100] [--frame-bytes 1024]
import { flags, startServer, runDriver, median, quantile, ratio, fmt, fmtRatio, table, writeResults, KEY } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ n: 2000, rounds: 3, warmup: 100, frameBytes: 1024 });
const server = await startServer({ workers: 2 });
const SERIES = [
  { name: "ours", client: "ours", mode: "realtime", label: "gst-fal realtime" },
  { name: "js", client: "js", mode: "realtime", label: "@fal-ai/client realtime" },
  { name: "run", client: "ours", mode: "run", label: "gst-fal sync run" },
];
const runs = Object.fromEntries(SERIES.map((s) => [s.name, []]));

for (let round = 0; round < opt.rounds; round++) {
  const order = round % 2 ? [...SERIES].reverse() : SERIES;
  for (const s of order) {
    const done = await runDriver(s.client, ["--url", server.url, "--key", KEY,
      "--mode", s.mode, "--app", "local/echo", "--input", '{"index": 1}',
      "--frame-bytes", opt.frameBytes, "-n", opt.n, "--warmup", opt.warmup]);
    const r = {
      failed: done.failed,
      cpu_us_per_msg: done.cpu_us / opt.n,
      p50_us: quantile(done.lat_us, 0.5),
      p99_us: quantile(done.lat_us, 0.99),
      // the warm-up opened the first; any other is one more per message
      connections: done.connections ?? null,
    };
    runs[s.name].push(r);
    console.error(`  round ${round + 1} ${s.name}: CPU ${fmt(r.cpu_us_per_msg, 1)} µs/msg, ` +
      `p50 ${fmt(r.p50_us / 1000, 3)} ms, connections ${r.connections ?? "—"}, failed ${r.failed}`);
  }
}
await server.stop();

const f = Object.fromEntries(SERIES.map((s) => [s.name, {
  cpu_us_per_msg: median(runs[s.name].map((r) => r.cpu_us_per_msg)),
  p50_ms: median(runs[s.name].map((r) => r.p50_us)) / 1000,
  p99_ms: median(runs[s.name].map((r) => r.p99_us)) / 1000,
  failed: runs[s.name].reduce((a, r) => a + r.failed, 0),
}]));
const messages = opt.n + opt.warmup;
const newConnections = median(runs.ours.map((r) => (r.connections - 1) / messages));
const ratios = {
  cpu_ours_vs_js: ratio(f.ours.cpu_us_per_msg, f.js.cpu_us_per_msg),
  p50_realtime_vs_run: ratio(f.ours.p50_ms, f.run.p50_ms),
  p50_js_realtime_vs_run: ratio(f.js.p50_ms, f.run.p50_ms),
  new_connections_per_message: newConnections,
  per_round_cpu_ours_vs_js: runs.ours.map((r, i) => ratio(r.cpu_us_per_msg, runs.js[i].cpu_us_per_msg)),
  per_round_p50_realtime_vs_run: runs.ours.map((r, i) => ratio(r.p50_us, runs.run[i].p50_us)),
};

const md = [`### P8 realtime echo round trip, ${opt.frameBytes}-byte binary frame, one at a time ` +
  `(${opt.n} messages × ${opt.rounds} rounds, medians)`, "",
  table(["series", "client CPU, µs/message", "p50, ms", "p99, ms", "failed"],
    SERIES.map((s) => [s.label, fmt(f[s.name].cpu_us_per_msg, 1), fmt(f[s.name].p50_ms, 3),
      fmt(f[s.name].p99_ms, 3), f[s.name].failed])),
  "",
  table(["figure", "measured", "goal"], [
    ["client CPU per message, gst-fal / @fal-ai/client realtime", fmtRatio(ratios.cpu_ours_vs_js), "≤ 0.25×"],
    ["round trip p50, gst-fal realtime / sync run", fmtRatio(ratios.p50_realtime_vs_run), "≤ 0.5×"],
    ["(for reference) @fal-ai/client realtime p50 / gst-fal sync run", fmtRatio(ratios.p50_js_realtime_vs_run), ""],
    ["new connections per message after the first, gst-fal", fmt(newConnections, 4), "0"],
  ]),
  "",
  `Per round, CPU ours/JS: ${ratios.per_round_cpu_ours_vs_js.map(fmtRatio).join(", ")}; ` +
  `p50 realtime/run: ${ratios.per_round_p50_realtime_vs_run.map(fmtRatio).join(", ")}.`].join("\n");
const svg = chart({ title: "P8: realtime echo round trip", legend: SERIES.map((s) => s.name), panels: [
  { title: "client CPU per message (median of rounds)", unit: "µs", log: false,
    rows: [{ label: "local/echo", items: SERIES.map((s) => ({ name: s.name, value: f[s.name].cpu_us_per_msg,
      text: `${fmt(f[s.name].cpu_us_per_msg, 0)} µs` })) }] },
  { title: "round trip p50 (median of rounds)", unit: "ms", log: false,
    rows: [{ label: "local/echo", items: SERIES.map((s) => ({ name: s.name, value: f[s.name].p50_ms,
      text: `${fmt(f[s.name].p50_ms, 3)} ms` })) }] },
] });
writeResults("p8-realtime", { figures: f, ratios, runs, options: opt }, svg, md);
