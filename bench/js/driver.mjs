// bench/js/driver.mjs: @fal-ai/client driven exactly as bench-driver drives
// our client (same options, same protocol on stdout/stdin, see
// bench-driver.c), so that both processes are measured alike.
//   node driver.mjs --url URL --key KEY --mode subscribe|run|upload|realtime
//       [--app local/echo] [--input JSON] [-n N] [--in-flight M]
//       [--warmup W] [--mark N]... [--file PATH] [--frame-bytes B]
// realtime: one fal.realtime.connect (throttleInterval 0, its token from
// /rest/tokens/) carries every request, --input plus a Uint8Array "frame"
// of B bytes; wss://fal.run/ is mapped onto the server as the HTTP hosts.
// Subscribes follow the status stream (mode "streaming"), as ours do by
// default (SSE), so that both see completion as it happens.
import { readFileSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { createFalClient } from "@fal-ai/client";

const opts = { mode: "subscribe", app: "local/echo", input: "{}", n: 2000,
  inFlight: 1, warmup: 100, marks: [], frameBytes: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const value = argv[++i];
  switch (argv[i - 1]) {
    case "--url": opts.url = value; break;
    case "--key": opts.key = value; break;
    case "--mode": opts.mode = value; break;
    case "--app": opts.app = value; break;
    case "--input": opts.input = value; break;
    case "--file": opts.file = value; break;
    case "-n": case "--count": opts.n = Number(value); break;
    case "--in-flight": opts.inFlight = Number(value); break;
    case "--warmup": opts.warmup = Number(value); break;
    case "--mark": opts.marks.push(Number(value)); break;
    case "--frame-bytes": opts.frameBytes = Number(value); break;
    default: console.error(`driver.mjs: unknown ${argv[i - 1]}`); process.exit(2);
  }
}

const hosts = [
  ["https://queue.fal.run", `${opts.url}/queue`],
  ["https://fal.run", `${opts.url}/run`],
  ["https://rest.fal.ai", `${opts.url}/rest`],
];
function mapUrl(url) {
  for (const [from, to] of hosts)
    if (url === from || url.startsWith(`${from}/`)) return to + url.slice(from.length);
  return url;
}
const fal = createFalClient({
  credentials: opts.key,
  requestMiddleware: async (request) => ({ ...request, url: mapUrl(request.url) }),
});

const input = JSON.parse(opts.input);

let realtime = null;
const waiting = [];             // realtime: resolvers in send order
if (opts.mode === "realtime") {
  const NativeWebSocket = globalThis.WebSocket;
  const wsUrl = opts.url.replace(/^http/, "ws");
  globalThis.WebSocket = class extends NativeWebSocket {
    constructor(url, protocols) {
      const text = String(url);
      super(text.startsWith("wss://fal.run/")
        ? `${wsUrl}/run/${text.slice("wss://fal.run/".length)}` : text, protocols);
    }
  };
  const frame = new Uint8Array(opts.frameBytes).map((_, i) => (i * 31) & 0xff);
  if (opts.frameBytes) input.frame = frame;
  realtime = fal.realtime.connect(opts.app, {
    throttleInterval: 0,
    onResult: () => waiting.shift().resolve(),
    onError: (error) => waiting.shift()?.reject(error),
  });
}
const blob = opts.mode === "upload"
  ? new Blob([readFileSync(opts.file)], { type: "application/octet-stream" })
  : null;

function call() {
  switch (opts.mode) {
    case "subscribe": return fal.subscribe(opts.app, { input, mode: "streaming" });
    case "run": return fal.run(opts.app, { input });
    case "upload": return fal.storage.upload(blob);
    case "realtime": return new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      realtime.send(input);
    });
    default: throw new Error(`unknown mode ${opts.mode}`);
  }
}

const rssKb = () => Math.round(process.memoryUsage().rss / 1024);
const fds = () => readdirSync("/proc/self/fd").length - 1;
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

async function phase(n, lat) {
  let started = 0, done = 0, failed = 0;
  async function worker() {
    while (started < n) {
      started++;
      const start = process.hrtime.bigint();
      try {
        await call();
      } catch (error) {
        if (failed++ < 5) console.error(`driver.mjs: ${error.message}`);
      }
      if (lat) lat.push(Number(process.hrtime.bigint() - start) / 1000);
      done++;
      if (lat && opts.marks.includes(done))
        console.log(JSON.stringify({ event: "mark", done, rss_kb: rssKb(), fds: fds() }));
    }
  }
  await Promise.all(Array.from({ length: Math.min(opts.inFlight, n) }, worker));
  return failed;
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const warmupFailed = await phase(opts.warmup, null);
console.log(JSON.stringify({ event: "ready", warmup_failed: warmupFailed }));
await lines.next();
const lat = [];
const cpu0 = cpuUs();
const wall0 = process.hrtime.bigint();
const failed = await phase(opts.n, lat);
const cpu = cpuUs() - cpu0;
const wall = Number(process.hrtime.bigint() - wall0) / 1000;
console.log(JSON.stringify({ event: "done", n: opts.n, failed, cpu_us: cpu,
  wall_us: Math.round(wall), rss_kb: rssKb(), fds: fds(),
  lat_us: lat.map(Math.round) }));
while (!(await lines.next()).done);
process.exit(0);
