// P9: falinfer through each endpoint (bench-endpoints, against its
// in-process server behind bench-proxy): per-frame latency through
// local/barcode, ordered, rounds interleaving queue, run and realtime, ratios
// to queue of the medians; connections per frame; 1280x720 JPEG frames
// through local/echo over endpoint=realtime, live. No JS counterpart: the
// figures stand against their goals.
//   node p9-endpoints.mjs [--rounds 5] [--frames 60] [--rate 20] [--hd-seconds 10] [--hd-rate 60]
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { flags, fmt, fmtRatio, table, writeResults, build } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ rounds: 5, frames: 60, rate: 20, hdSeconds: 10, hdRate: 60 });
const text = execFileSync(join(build, "bench", "bench-endpoints"), ["--proxy",
  join(build, "bench", "bench-proxy"), "--rounds", String(opt.rounds), "--frames", String(opt.frames),
  "--rate", String(opt.rate), "--hd-seconds", String(opt.hdSeconds), "--hd-rate", String(opt.hdRate)],
{ stdio: ["ignore", "pipe", "inherit"] }).toString();
const r = JSON.parse(text);
const by = Object.fromEntries(r.latency.map((e) => [e.endpoint, e]));
const hd = r.realtime_hd;
// the first run of each endpoint opens its connections: what comes after
const afterFirst = (e) => (e.connections - r.rounds) / Math.max(1, e.completed - r.rounds);
const met = (ok) => (ok ? "met" : "missed");

const rows = r.latency.map((e) => [e.endpoint, fmt(e.p50_ms), fmt(e.p90_ms), fmtRatio(e.ratio_p50),
  `${e.completed} / ${e.failed}`, `${e.connections} (${fmt(afterFirst(e), 4)})`]);
const md = [`### P9 endpoints: local/barcode, ordered, live 320×240 at ${r.rate} frames/s, ` +
  `${r.rounds} interleaved rounds × ${r.frames} frames`, "",
  table(["endpoint", "p50 ms", "p90 ms", "p50 / queue", "completed / failed",
    "connections (per frame after each run's first)"], rows), "",
  table(["figure", "value", "goal"], [
    ["per-frame latency p50, realtime / queue", fmtRatio(by.realtime?.ratio_p50),
      `≤ 0.5× (${met(by.realtime?.ratio_p50 <= 0.5)})`],
    ["per-frame latency p50, run / queue", fmtRatio(by.run?.ratio_p50), ""],
    ["new connections per frame after the first, realtime", fmt(by.realtime ? afterFirst(by.realtime) : NaN, 4),
      `0 (${met(by.realtime && afterFirst(by.realtime) === 0)})`],
    [`1280×720 JPEG through local/echo, realtime, live at ${hd.source_rate}/s: results/s`, fmt(hd.results_per_s, 1),
      `≥ 60 (${met(hd.results_per_s >= 60)})`],
    ["longest gap between two frames leaving falinfer, ms", fmt(hd.longest_frame_gap_ms, 1),
      `≤ 50 (${met(hd.longest_frame_gap_ms <= 50)})`],
    ["longest gap between two results, ms", fmt(hd.longest_result_gap_ms, 1), ""],
    ["the same source and jpegenc without falinfer: frames/s, longest gap ms",
      `${fmt(hd.alone_frames_per_s, 1)}, ${fmt(hd.alone_longest_frame_gap_ms, 1)}`, ""],
    ["completed / failed / replaced (latest-wins), connections", `${hd.completed} / ${hd.failed} / ${hd.replaced}, ${hd.connections}`, ""],
  ])].join("\n");
const svg = chart({ title: "P9: per-frame latency by endpoint (local/barcode, ordered)", legend: ["ours"], panels: [
  { title: "p50 per-frame latency", unit: "ms", log: false,
    rows: r.latency.map((e) => ({ label: e.endpoint, items: [{ name: "ours", value: e.p50_ms, text: `${fmt(e.p50_ms)} ms` }] })) },
  { title: "1280×720 realtime echo", unit: "results/s", log: false,
    rows: [{ label: "results/s", items: [{ name: "ours", value: hd.results_per_s }] },
      { label: "goal", items: [{ name: "goal", value: 60 }] }] },
] });
writeResults("p9-endpoints", { ...r, options: opt }, svg, md);
