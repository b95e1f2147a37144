// bench/js/lib.mjs: what the side-by-side programs share: a `gst-fal serve`
// process, bench-proxy, the two drivers, /proc sampling, statistics, the
// JSON + SVG output.
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";

export const build = process.env.BENCH_BUILD ?? join(import.meta.dirname, "..", "..");
export const results = process.env.BENCH_RESULTS ?? join(build, "bench", "results");
export const tool = process.env.GST_FAL_TOOL ?? join(build, "tools", "gst-fal");
export const KEY = "bench-key";
const TICK_US = 1e6 / Number(execFileSync("getconf", ["CLK_TCK"]).toString());

// --name value flags, with defaults
export function flags(defaults) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--?/, "").replace(/-(.)/g, (_, c) => c.toUpperCase());
    if (!(name in out)) throw new Error(`unknown flag ${argv[i]}; known: ${Object.keys(out)}`);
    out[name] = typeof out[name] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return out;
}

// utime + stime (µs), RSS (KiB) and open descriptors of a process
export function sample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return {
    cpu_us: (Number(fields[11]) + Number(fields[12])) * TICK_US,
    rss_kb: Number(/VmRSS:\s+(\d+)/.exec(status)[1]),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}

function lines(child, onLine) {
  createInterface({ input: child.stdout }).on("line", onLine);
}

export function serveSupports(option) {
  return execFileSync(tool, ["serve", "--help"]).toString().includes(option);
}

// gst-fal serve on a free port; resolves to { url, pid, stop() }
export function startServer({ workers = 32, tls = null, storage } = {}) {
  storage ??= join(build, "bench", "tmp", `storage-${process.pid}-${Date.now()}`);
  const args = ["serve", "--port", "0", "--workers", String(workers), "--key", KEY,
    "--storage-dir", storage];
  if (tls) args.push("--tls-certificate", tls.cert, "--tls-key", tls.key);
  const child = spawn(tool, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`gst-fal serve exited (${code})`)));
    lines(child, (line) => {
      if (!/^https?:\/\//.test(line)) return;
      child.removeAllListeners("exit");
      resolve({
        url: line.trim(), pid: child.pid, storage,
        stop: () => new Promise((done) => {
          child.on("exit", () => { rmSync(storage, { recursive: true, force: true }); done(); });
          child.kill("SIGTERM");
        }),
      });
    });
  });
}

// bench-proxy in front of URL; resolves to { url, counts(), stop() }
export function startProxy(url, delayMs = 0) {
  const target = new URL(url);
  const child = spawn(join(build, "bench", "bench-proxy"), ["--target",
    `${target.hostname}:${target.port}`, "--delay-ms", String(delayMs)],
  { stdio: ["pipe", "pipe", "inherit"] });
  const waiting = [];
  return new Promise((resolve) => {
    lines(child, (line) => {
      const port = /^port (\d+)/.exec(line);
      if (port) {
        resolve({
          url: `${target.protocol}//127.0.0.1:${port[1]}`,
          counts: () => new Promise((done) => { waiting.push(done); child.stdin.write("?\n"); }),
          stop: () => { child.stdin.end(); },
        });
        return;
      }
      const count = /^accepted (\d+) closed (\d+)/.exec(line);
      if (count) waiting.shift()({ accepted: Number(count[1]), closed: Number(count[2]) });
    });
  });
}

// Runs one driver: kind "ours" (bench-driver) or "js" (driver.mjs).
// hooks.ready() runs after the warm-up, before "go"; hooks.mark(m) on each
// mark; resolves to the "done" object with .pid and .ready (the samples
// taken by hooks.ready).
export function runDriver(kind, args, hooks = {}, env = {}) {
  const [cmd, pre] = kind === "ours"
    ? [join(build, "bench", "bench-driver"), []]
    : [process.execPath, [
      // fal.realtime needs a global WebSocket: behind a flag on Node 20
      ...(typeof globalThis.WebSocket === "function" ? [] : ["--experimental-websocket"]),
      join(build, "bench", "js", "driver.mjs")]];
  const child = spawn(cmd, [...pre, ...args.map(String)],
    { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let ready = null;
    child.on("exit", (code) => { if (code) reject(new Error(`${kind} driver exited ${code}`)); });
    lines(child, async (line) => {
      const event = JSON.parse(line);
      if (event.event === "ready") {
        ready = { client: sample(child.pid), ...(hooks.ready ? await hooks.ready() : {}) };
        child.stdin.write("go\n");
      } else if (event.event === "mark") {
        if (hooks.mark) await hooks.mark(event);
      } else if (event.event === "done") {
        event.pid = child.pid;
        event.ready = ready;
        event.end = { client: sample(child.pid), ...(hooks.done ? await hooks.done() : {}) };
        child.stdin.end();
        resolve(event);
      }
    });
  });
}

export const median = (xs) => quantile(xs, 0.5);
export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
export const ratio = (a, b) => (b ? a / b : NaN);
export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : "—");
export const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "—");

// Markdown table from a header and rows
export function table(header, rows) {
  const out = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) out.push(`| ${row.join(" | ")} |`);
  return out.join("\n");
}

export function writeResults(name, json, svg, markdown) {
  mkdirSync(results, { recursive: true });
  json.machine = { cpus: readdirSync("/sys/bus/cpu/devices").length, node: process.version,
    date: new Date().toISOString() };
  writeFileSync(join(results, `${name}.json`), JSON.stringify(json, null, 1) + "\n");
  if (svg) writeFileSync(join(results, `${name}.svg`), svg);
  writeFileSync(join(results, `${name}.md`), markdown + "\n");
  console.log(markdown);
}

export function tmpDir() {
  const dir = join(build, "bench", "tmp");
  mkdirSync(dir, { recursive: true });
  return dir;
}

export { existsSync };
