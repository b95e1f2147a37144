// P1 + P2: client CPU per subscribe (submit → result) and latency above the
// app's own time, gst-fal vs @fal-ai/client, against one `gst-fal serve`,
// interleaved (the order of the two clients alternates each round), with
// the server's CPU per request beside each.
//   node p1-cpu.mjs [--n 2000] [--rounds 3] [--warmup 100]
import { flags, startServer, runDriver, sample, median, quantile, ratio, fmt, fmtRatio,
  table, writeResults, KEY } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ n: 2000, rounds: 3, warmup: 100 });
const SERIES = [
  { name: "local/echo, 1 in flight", app: "local/echo", input: "{}", inFlight: 1, appUs: 0 },
  { name: "local/echo, 32 in flight", app: "local/echo", input: "{}", inFlight: 32, appUs: 0 },
  { name: "local/sleep 20 ms, 1 in flight", app: "local/sleep", input: '{"seconds":0.02}', inFlight: 1, appUs: 20000 },
  { name: "local/sleep 20 ms, 32 in flight", app: "local/sleep", input: '{"seconds":0.02}', inFlight: 32, appUs: 20000 },
];
const CLIENTS = ["ours", "js"];

const server = await startServer({ workers: 32 });
console.error(`p1: ${server.url}, n=${opt.n}, ${opt.rounds} rounds`);
const runs = SERIES.map(() => ({ ours: [], js: [] }));
for (let round = 0; round < opt.rounds; round++) {
  for (const [s, series] of SERIES.entries()) {
    const order = round % 2 ? [...CLIENTS].reverse() : CLIENTS;
    for (const client of order) {
      let server0;
      const done = await runDriver(client, ["--url", server.url, "--key", KEY, "--mode", "subscribe",
        "--app", series.app, "--input", series.input, "-n", opt.n, "--in-flight", series.inFlight,
        "--warmup", opt.warmup], {
        ready: () => { server0 = sample(server.pid); return {}; },
        done: () => ({ server: sample(server.pid) }),
      });
      const ok = done.n - done.failed;
      const above = done.lat_us.map((us) => us - series.appUs);
      runs[s][client].push({
        cpu_us: done.cpu_us / ok,
        server_cpu_us: (done.end.server.cpu_us - server0.cpu_us) / ok,
        p50_us: median(above), p99_us: quantile(above, 0.99),
        quantiles_us: [0.01, 0.25, 0.5, 0.75, 0.99].map((q) => quantile(above, q)),
        failed: done.failed, wall_s: done.wall_us / 1e6,
      });
      const last = runs[s][client].at(-1);
      console.error(`  round ${round + 1} ${series.name} ${client}: ${fmt(last.cpu_us, 0)} µs/req, ` +
        `server ${fmt(last.server_cpu_us, 0)} µs, p50 +${fmt(last.p50_us / 1000)} ms, failed ${last.failed}`);
    }
  }
}
await server.stop();

// medians over the rounds; the ratio is ours / js of those medians
const med = (list, key) => median(list.map((r) => r[key]));
const figures = SERIES.map((series, s) => {
  const f = { series: series.name, n: opt.n, rounds: opt.rounds };
  for (const c of CLIENTS)
    f[c] = Object.fromEntries(["cpu_us", "server_cpu_us", "p50_us", "p99_us"].map((k) => [k, med(runs[s][c], k)]))
      , f[c].failed = runs[s][c].reduce((a, r) => a + r.failed, 0);
  f.cpu_ratio = ratio(f.ours.cpu_us, f.js.cpu_us);
  f.per_round_cpu_ratio = runs[s].ours.map((r, i) => ratio(r.cpu_us, runs[s].js[i].cpu_us));
  f.p50_ratio = ratio(f.ours.p50_us, f.js.p50_us);
  f.p99_ratio = ratio(f.ours.p99_us, f.js.p99_us);
  return f;
});

const md = [
  `### P1 client CPU per subscribe (N = ${opt.n}, ${opt.rounds} rounds, medians; goal ≤ 0.25×)`, "",
  table(["series", "gst-fal µs", "@fal-ai/client µs", "ratio", "per-round ratios", "server µs/req (gst-fal / js)", "failed"],
    figures.map((f) => [f.series, fmt(f.ours.cpu_us, 0), fmt(f.js.cpu_us, 0), fmtRatio(f.cpu_ratio),
      f.per_round_cpu_ratio.map((r) => fmt(r)).join(" "),
      `${fmt(f.ours.server_cpu_us, 0)} / ${fmt(f.js.server_cpu_us, 0)}`, `${f.ours.failed} / ${f.js.failed}`])),
  "", `### P2 submit → result, above the app's own time (ms)`, "",
  table(["series", "gst-fal p50", "js p50", "ratio", "gst-fal p99", "js p99", "ratio"],
    figures.map((f) => [f.series, fmt(f.ours.p50_us / 1000), fmt(f.js.p50_us / 1000), fmtRatio(f.p50_ratio),
      fmt(f.ours.p99_us / 1000), fmt(f.js.p99_us / 1000), fmtRatio(f.p99_ratio)])),
].join("\n");

const lastRound = (s, c) => runs[s][c].at(-1);
const svg = chart({
  title: `P1/P2: gst-fal vs @fal-ai/client, N = ${opt.n} per series, ${opt.rounds} rounds`,
  legend: ["ours", "js", "server"],
  panels: [
    { title: "client CPU per subscribe (median of rounds); grey: server CPU per request", unit: "µs", log: false,
      rows: figures.map((f) => ({ label: f.series, items: [
        { name: "ours", value: f.ours.cpu_us, text: `${fmt(f.ours.cpu_us, 0)} µs (${fmtRatio(f.cpu_ratio)})` },
        { name: "js", value: f.js.cpu_us, text: `${fmt(f.js.cpu_us, 0)} µs` },
        { name: "server", value: f.ours.server_cpu_us, text: `server ${fmt(f.ours.server_cpu_us, 0)} µs` }] })) },
    { title: "submit → result above the app's time, last round: p1 – p25 [p50] p75 – p99", unit: "ms (log)", log: true,
      rows: SERIES.map((series, s) => ({ label: series.name, items: CLIENTS.map((c) => ({ name: c,
        q: lastRound(s, c).quantiles_us.map((us) => Math.max(us, 1) / 1000),
        text: `p50 ${fmt(lastRound(s, c).p50_us / 1000)} p99 ${fmt(lastRound(s, c).p99_us / 1000)}` })) })) },
  ],
});
writeResults("p1-cpu", { figures, runs, options: opt }, svg, md);
