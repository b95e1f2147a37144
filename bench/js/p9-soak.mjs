// P9: exactly-once delivery under injected faults (issue 13 §3). One
// `gst-fal serve --admin` injects 10 % 503, 5 % 429 + Retry-After: 1 and 2 %
// resets (and 2 % bodies cut short for the library run); bench-soak runs
// N frames through falinfer (ordered, max-in-flight 8), then N library
// subscribes (8 in flight), each in a process of its own. The server counts
// the executions of every request it accepted (/_admin/executions). There is
// no JS counterpart; the figures stand against their goals.
//   node p9-soak.mjs [--frames 10000] [--subscribes 10000] [--in-flight 8]
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { flags, startServer, sample, table, writeResults, build, KEY } from "./lib.mjs";

const opt = flags({ frames: 10000, subscribes: 10000, inFlight: 8 });
const FAULTS = { rate_503: 0.10, rate_429: 0.05, retry_after: 1, rate_drop: 0.02 };
const server = await startServer({ workers: 8, admin: true });
const auth = { Authorization: `Key ${KEY}` };

// Once more on a transport error: the server closes a connection idle for
// its idle-timeout (75 s), which a phase outlasts.
async function admin(path, body, again = true) {
  try {
    const answer = await fetch(`${server.url}/_admin/${path}`, body === undefined ? { headers: auth }
      : { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return answer.ok ? answer.json() : null;
  } catch (error) {
    if (!again) throw error;
    return admin(path, body, false);
  }
}

async function phase(name, n, faults) {
  await admin("faults", faults);
  const before = { server: sample(server.pid), executions: await admin("executions") };
  let text;
  try {
    text = execFileSync(join(build, "bench", "bench-soak"), ["--url", server.url, "--key", KEY,
      "--phase", name, "-n", String(n), "--in-flight", String(opt.inFlight)]).toString();
  } catch (error) {
    text = error.stdout?.toString() ?? "";
    console.error(`  bench-soak ${name} failed (${error.status}); its figures as far as they go`);
  }
  await admin("faults", {});
  const r = JSON.parse(text);
  r.server_before = before.server;
  r.server_after = sample(server.pid);
  const after = await admin("executions");
  if (before.executions && after) {
    r.server = {
      accepted: after.requests - before.executions.requests,
      executions: after.executions - before.executions.executions,
      ran_again: after.ran_again - before.executions.ran_again,
    };
  }
  r.faults = faults;
  console.error(`  ${name}: ${r.exactly_one}/${n} with one result, ${r.errors} errors ` +
    `(${r.ambiguous} ambiguous submits), ${r.duplicated} duplicated, ${r.seconds} s`);
  return r;
}

const frames = await phase("frames", opt.frames, FAULTS);
const subscribes = await phase("subscribes", opt.subscribes, { ...FAULTS, rate_truncate: 0.02 });
await server.stop();

const both = [frames, subscribes];
const lostOther = (r) => r.n - r.exactly_one - r.ambiguous;
const srv = (r, k) => (r.server ? r.server[k] : "—");
const causes = (r) => Object.entries(r.causes).map(([c, k]) => `${k} × ${c.replace(/\|/g, "\\|")}`).join("<br>") || "—";
const rows = [
  ["items", frames.n, subscribes.n, ""],
  ["with exactly one result", frames.exactly_one, subscribes.exactly_one, "all but the ambiguous submits"],
  ["errors (error metas / failed subscribes)", frames.errors, subscribes.errors, ""],
  ["of which ambiguous submits, each reported", frames.ambiguous, subscribes.ambiguous, ""],
  ["lost otherwise (an error of another cause, or nothing)", lostOther(frames), lostOther(subscribes), "0"],
  ["lost silently (no result, no error)", frames.none, subscribes.none, "0"],
  ["duplicated", frames.duplicated, subscribes.duplicated, "0"],
  ["mismatched (another item's result)", frames.mismatched, subscribes.mismatched, "0"],
  ["frames with more than one meta", frames.several, "", "0"],
  ["server: submits accepted", srv(frames, "accepted"), srv(subscribes, "accepted"), ""],
  ["server: executions", srv(frames, "executions"), srv(subscribes, "executions"), ""],
  ["server: requests that ran twice", srv(frames, "ran_again"), srv(subscribes, "ran_again"), "0"],
  ["client RSS before → after, MB", ...both.map((r) => `${(r.client_before.rss_kb / 1024).toFixed(1)} → ${(r.client_after.rss_kb / 1024).toFixed(1)}`), ""],
  ["client descriptors before → after", ...both.map((r) => `${r.client_before.fds} → ${r.client_after.fds}`), ""],
  ["server RSS before → after, MB", ...both.map((r) => `${(r.server_before.rss_kb / 1024).toFixed(1)} → ${(r.server_after.rss_kb / 1024).toFixed(1)}`), ""],
  ["server descriptors before → after", ...both.map((r) => `${r.server_before.fds} → ${r.server_after.fds}`), "no growth"],
  ["wall time, s", frames.seconds, subscribes.seconds, ""],
  ["error causes", causes(frames), causes(subscribes), ""],
];
const md = [`### P9 fault soak: ${opt.frames} falinfer frames (ordered, max-in-flight ${opt.inFlight}) and ` +
  `${opt.subscribes} library subscribes (${opt.inFlight} in flight) of local/echo, against one ` +
  "`gst-fal serve` injecting 10 % 503, 5 % 429 + Retry-After 1 s, 2 % resets (+ 2 % bodies cut short " +
  "for the subscribes)", "",
  table(["figure", "frames", "subscribes", "goal"], rows)].join("\n");
writeResults("p9-soak", { frames, subscribes, options: opt }, null, md);
