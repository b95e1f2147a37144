// P5: RSS and open descriptors of the client and of `gst-fal serve` after
// the warm-up, at N/10 and at N subscribes (local/echo, one at a time), each
// client against a fresh server so that the server's figures are its own.
//   node p5-memory.mjs [--n 10000] [--in-flight 1]
import { flags, startServer, runDriver, sample, fmt, fmtRatio, ratio, table, writeResults, KEY } from "./lib.mjs";
import { chart } from "./plot.mjs";

const opt = flags({ n: 10000, inFlight: 1 });
const marks = [opt.n / 10, opt.n];
const CLIENTS = ["ours", "js"];

const out = {};
for (const client of CLIENTS) {
  const server = await startServer({ workers: 8 });
  const points = [];
  const done = await runDriver(client, ["--url", server.url, "--key", KEY, "--mode", "subscribe",
    "--app", "local/echo", "--input", "{}", "-n", opt.n, "--in-flight", opt.inFlight,
    "--warmup", 100, ...marks.flatMap((m) => ["--mark", m])], {
    ready: () => { points.push({ done: 0, client: null, server: sample(server.pid) }); return {}; },
    mark: (m) => { points.push({ done: m.done, client: { rss_kb: m.rss_kb, fds: m.fds }, server: sample(server.pid) }); },
  });
  points[0].client = { rss_kb: done.ready.client.rss_kb, fds: done.ready.client.fds };
  await server.stop();
  out[client] = { points, failed: done.failed };
  for (const p of points)
    console.error(`  ${client} at ${p.done}: client ${p.client.rss_kb} KiB ${p.client.fds} fds, ` +
      `server ${p.server.rss_kb} KiB ${p.server.fds} fds`);
}

const at = (c, i) => out[c].points[i];
const growth = (c, i, who) => (at(c, i)[who].rss_kb - at(c, 0)[who].rss_kb) / 1024;
const rows = [];
for (const [i, m] of marks.entries()) {
  const k = i + 1;
  rows.push([`client RSS growth at ${m}, MB`, fmt(growth("ours", k, "client")), fmt(growth("js", k, "client")),
    fmtRatio(ratio(growth("ours", k, "client"), growth("js", k, "client"))), m === opt.n ? "≤ 0.5" : ""]);
  rows.push([`client descriptors at ${m}`, at("ours", k).client.fds, at("js", k).client.fds, "", ""]);
  rows.push([`server RSS growth at ${m}, MB`, fmt(growth("ours", k, "server")), fmt(growth("js", k, "server")), "", ""]);
  rows.push([`server descriptors at ${m}`, at("ours", k).server.fds, at("js", k).server.fds, "", m === opt.n ? "≤ 64" : ""]);
}
rows.unshift(["client RSS after warm-up, MB", fmt(at("ours", 0).client.rss_kb / 1024, 1),
  fmt(at("js", 0).client.rss_kb / 1024, 1), "", ""],
["server descriptors after warm-up", at("ours", 0).server.fds, at("js", 0).server.fds, "", ""]);
rows.push(["failed", out.ours.failed, out.js.failed, "", ""]);
const md = [`### P5 memory and descriptors (local/echo subscribes, ${opt.inFlight} in flight, a fresh server per client; ` +
  `growth from after 100 warm-up requests)`, "",
  table(["figure", "gst-fal", "@fal-ai/client (its server)", "ratio", "goal"], rows)].join("\n");

const svg = chart({ title: `P5: RSS growth and descriptors over ${opt.n} subscribes`, legend: CLIENTS, panels: [
  { title: "client RSS growth since the warm-up", unit: "MB", log: false,
    rows: marks.map((m, i) => ({ label: `after ${m}`, items: CLIENTS.map((c) => ({ name: c, value: Math.max(0, growth(c, i + 1, "client")), text: fmt(growth(c, i + 1, "client")) })) })) },
  { title: "server descriptors (gst-fal serve), by client", unit: "descriptors", log: false,
    rows: [0, ...marks].map((m, i) => ({ label: `after ${m || "warm-up"}`, items: CLIENTS.map((c) => ({ name: c, value: at(c, i).server.fds, text: String(at(c, i).server.fds) })) })) },
] });
writeResults("p5-memory", { ...out, options: opt }, svg, md);
