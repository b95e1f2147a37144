// Conformance of the local gst-fal server with fal's official JavaScript
// client (@fal-ai/client), given only a request middleware that maps fal's
// hosts onto the server. Usage: node conformance.mjs SERVER_URL KEY
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createFalClient, ApiError, ValidationError } from "@fal-ai/client";

const [server, key] = process.argv.slice(2);
if (!server) {
  console.error("usage: node conformance.mjs SERVER_URL KEY");
  process.exit(2);
}

const hosts = [
  ["https://queue.fal.run", `${server}/queue`],
  ["https://fal.run", `${server}/run`],
  ["https://rest.fal.ai", `${server}/rest`],
];

function mapUrl(url) {
  for (const [from, to] of hosts) {
    if (url === from || url.startsWith(`${from}/`)) {
      return to + url.slice(from.length);
    }
  }
  return url;
}

// fal.realtime opens wss://fal.run/…: the same mapping, for websockets.
// It needs a global WebSocket: Node 22 has one, Node 20 behind
// --experimental-websocket (run-conformance.sh); Debian 12's Node 18 has
// none, so there it is the one of the `ws` package.
const wsServer = server.replace(/^http/, "ws");
if (typeof globalThis.WebSocket !== "function") {
  globalThis.WebSocket = (await import("ws")).WebSocket;
}
// fal.realtime takes ids from the global Web Crypto, which Node 18 keeps
// behind a flag
if (typeof globalThis.crypto === "undefined") {
  globalThis.crypto = (await import("node:crypto")).webcrypto;
}
if (typeof globalThis.WebSocket === "function") {
  const NativeWebSocket = globalThis.WebSocket;
  globalThis.WebSocket = class extends NativeWebSocket {
    constructor(url, protocols) {
      const text = String(url);
      super(text.startsWith("wss://fal.run/")
        ? `${wsServer}/run/${text.slice("wss://fal.run/".length)}` : text, protocols);
    }
  };
}

const fal = createFalClient({
  credentials: key,
  requestMiddleware: async (request) => ({ ...request, url: mapUrl(request.url) }),
});

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, "ok"]);
    console.log(`ok - ${name}`);
  } catch (error) {
    results.push([name, "FAIL"]);
    console.log(`not ok - ${name}`);
    console.log(error && error.stack ? error.stack : error);
    if (error && error.body) console.log("body:", JSON.stringify(error.body));
  }
}

async function waitFor(requestId, endpointId, wanted) {
  for (let i = 0; i < 2400; i++) {
    const status = await fal.queue.status(endpointId, { requestId, logs: true });
    if (wanted.includes(status.status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${requestId} never reached ${wanted}`);
}

await check("unauthenticated client is refused (401)", async () => {
  const anonymous = createFalClient({
    credentials: "wrong-key",
    requestMiddleware: async (request) => ({ ...request, url: mapUrl(request.url) }),
  });
  await assert.rejects(anonymous.run("local/echo", { input: { a: 1 } }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 401);
    return true;
  });
});

await check("run", async () => {
  const result = await fal.run("local/echo", { input: { text: "hello", n: 3 } });
  assert.deepEqual(result.data, { text: "hello", n: 3 });
  assert.match(result.requestId, /^[0-9a-f-]{36}$/);
});

await check("run: validation error (422)", async () => {
  await assert.rejects(fal.run("local/sleep", { input: { seconds: "long" } }), (error) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 422);
    assert.ok(error.fieldErrors.length >= 1);
    return true;
  });
});

await check("run: app error replayed", async () => {
  await assert.rejects(
    fal.run("local/fail", { input: { status: 500, detail: "broken on purpose" } }),
    (error) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.status, 500);
      assert.equal(error.body.detail, "broken on purpose");
      return true;
    },
  );
});

await check("subscribe (polling, logs)", async () => {
  const updates = [];
  let enqueued = null;
  const result = await fal.subscribe("local/sleep", {
    input: { seconds: 0.6, logs: 3 },
    logs: true,
    mode: "polling",
    pollInterval: 50,
    onEnqueue: (requestId) => {
      enqueued = requestId;
    },
    onQueueUpdate: (update) => updates.push(update),
  });
  assert.equal(result.data.slept, 0.6);
  assert.equal(result.requestId, enqueued);
  assert.ok(updates.length >= 1);
  const last = updates[updates.length - 1];
  assert.equal(last.status, "COMPLETED");
  assert.equal(last.logs.length, 3);
  assert.ok(last.logs.every((log) => typeof log.message === "string" && log.timestamp));
});

await check("subscribe (streaming, logs)", async () => {
  const updates = [];
  const result = await fal.subscribe("local/sleep", {
    input: { seconds: 0.6, logs: 3 },
    logs: true,
    mode: "streaming",
    onQueueUpdate: (update) => updates.push(update),
  });
  assert.equal(result.data.slept, 0.6);
  assert.ok(updates.length >= 2, `only ${updates.length} updates`);
  const last = updates[updates.length - 1];
  assert.equal(last.status, "COMPLETED");
  // the client accumulates the log lines of the events: each exactly once
  const messages = last.logs.map((log) => log.message);
  assert.equal(messages.length, 3, JSON.stringify(messages));
  assert.equal(new Set(messages).size, 3, JSON.stringify(messages));
});

await check("queue.submit / status / result", async () => {
  const submitted = await fal.queue.submit("local/echo/sub/path", {
    input: { value: 42 },
  });
  assert.equal(submitted.status, "IN_QUEUE");
  assert.ok(submitted.request_id);
  assert.ok(submitted.status_url.includes("/queue/local/echo/requests/"));
  const status = await waitFor(submitted.request_id, "local/echo", ["COMPLETED"]);
  assert.ok("metrics" in status);
  const result = await fal.queue.result("local/echo", {
    requestId: submitted.request_id,
  });
  assert.deepEqual(result.data, { value: 42 });
  assert.equal(result.requestId, submitted.request_id);
});

await check("queue.cancel of a running request", async () => {
  const submitted = await fal.queue.submit("local/sleep", { input: { seconds: 60 } });
  const requestId = submitted.request_id;
  await waitFor(requestId, "local/sleep", ["IN_PROGRESS"]);
  await fal.queue.cancel("local/sleep", { requestId });
  const status = await waitFor(requestId, "local/sleep", ["COMPLETED"]);
  assert.equal(status.error_type, "client_cancelled");
  await assert.rejects(fal.queue.result("local/sleep", { requestId }), (error) => {
    assert.equal(error.status, 499);
    return true;
  });
  // a second cancel: already completed
  await assert.rejects(fal.queue.cancel("local/sleep", { requestId }), (error) => {
    assert.equal(error.status, 400);
    return true;
  });
});

await check("queue.streamStatus", async () => {
  const submitted = await fal.queue.submit("local/sleep", {
    input: { seconds: 0.3, logs: 2 },
  });
  const stream = await fal.queue.streamStatus("local/sleep", {
    requestId: submitted.request_id,
    logs: true,
  });
  const seen = [];
  stream.on("data", (event) => seen.push(event.status));
  const done = await stream.done();
  assert.equal(done.status, "COMPLETED");
  assert.ok(seen.includes("COMPLETED"));
});

await check("stream", async () => {
  const stream = await fal.stream("local/counter", {
    input: { count: 4, interval: 0.05 },
  });
  const events = [];
  for await (const event of stream) events.push(event);
  const final = await stream.done();
  assert.equal(events.length, 5, JSON.stringify(events));
  assert.deepEqual(final, events[events.length - 1]);
});

await check("storage.upload (small)", async () => {
  const text = "a small file for the local CDN\n";
  const url = await fal.storage.upload(new Blob([text], { type: "text/plain" }));
  assert.ok(url.startsWith(`${server}/files/`), url);
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain");
  assert.equal(await response.text(), text);
});

await check("storage.upload (100 MiB, multipart)", async () => {
  const size = 100 * 1024 * 1024;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) & 0xff;
  bytes[size - 1] = 0x5a;
  const expected = createHash("sha256").update(bytes).digest("hex");
  const url = await fal.storage.upload(
    new Blob([bytes], { type: "application/octet-stream" }),
  );
  const response = await fetch(url);
  assert.equal(response.status, 200);
  const body = new Uint8Array(await response.arrayBuffer());
  assert.equal(body.length, size);
  assert.equal(createHash("sha256").update(body).digest("hex"), expected);
  // and a range of it
  const ranged = await fetch(url, { headers: { Range: `bytes=${size - 2}-` } });
  assert.equal(ranged.status, 206);
  assert.deepEqual([...new Uint8Array(await ranged.arrayBuffer())], [0, 0x5a]);
});

await check("input Blob auto-upload (transformInput)", async () => {
  const result = await fal.run("local/echo", {
    input: { file: new Blob(["blob body"], { type: "text/plain" }) },
  });
  assert.ok(result.data.file.startsWith(`${server}/files/`));
  assert.equal(await (await fetch(result.data.file)).text(), "blob body");
});

// fal's realtime client, unchanged: token from /rest/tokens/, msgpack frames
function realtime(app, options = {}) {
  const results = [];
  const errors = [];
  const connection = fal.realtime.connect(app, {
    throttleInterval: 0,
    onResult: (result) => results.push(result),
    onError: (error) => errors.push(error),
    ...options,
  });
  return { connection, results, errors };
}

async function until(condition, what) {
  for (let i = 0; i < 600; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

await check("realtime: echo round trip, binary kept, in order", async () => {
  assert.equal(typeof globalThis.WebSocket, "function", "no WebSocket in this node");
  const { connection, results, errors } = realtime("local/echo");
  const image = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 0x7f]);
  connection.send({ index: 0, prompt: "a cat", image });
  await until(() => results.length === 1 || errors.length, "the first result");
  connection.send({ index: 1, prompt: "a dog", image });
  connection.send({ index: 2, prompt: "a cow", image });
  await until(() => results.length === 3 || errors.length, "three results");
  assert.deepEqual(errors, []);
  assert.deepEqual(results.map((r) => r.index), [0, 1, 2]);
  assert.ok(results[0].image instanceof Uint8Array);
  assert.deepEqual(Array.from(results[0].image), Array.from(image));
  assert.equal(results[1].prompt, "a dog");
  connection.close();
});

await check("realtime: INTERNAL_ERROR from local/fail", async () => {
  const { connection, results, errors } = realtime("local/fail");
  connection.send({ status: 500, detail: "broke on purpose" });
  await until(() => errors.length === 1, "the error");
  assert.deepEqual(results, []);
  assert.equal(errors[0].body.type, "x-fal-error");
  assert.equal(errors[0].body.error, "INTERNAL_ERROR");
  assert.equal(errors[0].body.reason, "broke on purpose");
  // closed with 1000: no second error for the close
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(errors.length, 1);
  connection.close();
});

const failed = results.filter(([, outcome]) => outcome !== "ok");
console.log(`${results.length - failed.length}/${results.length} passed`);
process.exit(failed.length ? 1 : 0);
