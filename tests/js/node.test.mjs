// The JavaScript binding (bindings/js over build's wsrpc.wasm) in Node against a Go server.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startServer, freePort, nextEvent, sleep } from "./harness.mjs";
import { connect, version, RpcError } from "wsrpc";

const quiet = { logLevel: "silent" };
let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function rejects(promise, check) {
  await assert.rejects(promise, (e) => {
    check(e);
    return true;
  });
}

test("version", async () => {
  // The wasm reports the Go module's wsrpc.Version; the npm package must say the same.
  const pkg = JSON.parse(readFileSync(new URL("../../bindings/js/package.json", import.meta.url), "utf8"));
  assert.match(await version(), /^\d+\.\d+\.\d+$/);
  assert.equal(await version(), pkg.version);
});

describe("calls", () => {
  let c;
  before(async () => { c = await connect(server.url, quiet); });
  after(async () => { await c?.close(); });

  test("named params", async () => {
    assert.equal(await c.call("concat", { a: "hello", b: " world" }), "hello world");
  });
  test("positional params", async () => {
    assert.equal(await c.call("concat", ["foo", "bar"]), "foobar");
    assert.equal(await c.call("add", [2, 3.5]), 5.5);
  });
  test("JSON values round-trip", async () => {
    const v = { s: "ünïcødé ✓", n: 1.5, i: -7, b: true, z: null, a: [1, "x", { y: [] }] };
    assert.deepEqual(await c.call("echo", v), v);
    assert.deepEqual(await c.call("echo", [v, 2]), [v, 2]);
    assert.equal(await c.call("echo"), null);
    assert.equal(await c.call("ping"), "pong");
  });
  test("params must be an object or array", async () => {
    await assert.rejects(c.call("echo", 5), TypeError);
    await assert.rejects(c.notify("echo", "x"), TypeError);
  });
  test("unknown method: -32601", async () => {
    await rejects(c.call("no_such_method", {}), (e) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.kind, "remote");
      assert.equal(e.code, -32601);
      assert.match(e.message, /no_such_method/);
    });
  });
  test("bad params: -32602", async () => {
    await rejects(c.call("concat", { a: 1, b: "x" }), (e) => assert.equal(e.code, -32602));
    await rejects(c.call("concat", { a: "x", c: "y" }), (e) => assert.equal(e.code, -32602));
    await rejects(c.call("add", [1]), (e) => {
      assert.equal(e.code, -32602);
      assert.equal(e.data.method, "add");
    });
  });
  test("server error with code, message, data", async () => {
    await rejects(c.call("fail", { code: 4321, message: "nope", data: { why: ["x"] } }), (e) => {
      assert.equal(e.kind, "remote");
      assert.equal(e.code, 4321);
      assert.equal(e.message, "nope");
      assert.deepEqual(e.data, { why: ["x"] });
    });
  });
  test("server exception: -32603 without detail", async () => {
    await rejects(c.call("boom"), (e) => {
      assert.equal(e.code, -32603);
      assert.equal(e.message, "Internal server error");
    });
  });
  test("timeout (milliseconds)", async () => {
    const t0 = Date.now();
    await rejects(c.call("sleep", { seconds: 2 }, { timeout: 200 }), (e) => assert.equal(e.kind, "timeout"));
    assert.ok(Date.now() - t0 < 1500); // not 200 seconds
  });
  test("abort signal: rejects with signal.reason", async () => {
    const ac = new AbortController();
    const p = c.call("sleep", { seconds: 2 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await rejects(p, (e) => {
      assert.ok(e instanceof DOMException);
      assert.equal(e.name, "AbortError");
      assert.equal(e, ac.signal.reason);
    });
    const why = new Error("no longer needed");
    await rejects(c.call("sleep", { seconds: 2 }, { signal: AbortSignal.abort(why) }), (e) => assert.equal(e, why));
    await rejects(c.call("sleep", { seconds: 2 }, { signal: AbortSignal.timeout(50) }), (e) => assert.equal(e.name, "TimeoutError"));
    assert.equal(await c.call("concat", { a: "still", b: " fine" }), "still fine");
  });
  test("200 concurrent calls", async () => {
    const n = 200;
    const got = await Promise.all(Array.from({ length: n }, (_, i) => c.call("concat", { a: `x${i}`, b: `-${i}` })));
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => `x${i}-${i}`));
    const slow = await Promise.all(Array.from({ length: n }, (_, i) => c.call("sleep", { seconds: 0.05 + (i % 5) * 0.01 })));
    assert.equal(slow.length, n);
  });
  test("notify reaches the server", async () => {
    await c.notify("log_event", { level: "info", n: 1 });
    await c.notify("log_event", ["positional", 2]);
    // Notifications run concurrently on the server: both arrive, in either order.
    const want = [JSON.stringify({ level: "info", n: 1 }), JSON.stringify(["positional", 2])];
    let got = [];
    for (let i = 0; i < 100 && !want.every((w) => got.includes(w)); i++) {
      await sleep(20);
      got = (await c.call("events")).map((e) => JSON.stringify(e));
    }
    assert.deepEqual(want.filter((w) => got.includes(w)), want);
  });
  test("channelId", async () => {
    assert.match(c.channelId, /^[0-9a-f]{32}$/);
  });
});

describe("server calls the client", () => {
  let c;
  const seen = [];
  before(async () => {
    c = await connect(server.url, {
      ...quiet,
      methods: {
        client_echo: ({ text }) => text,
        client_add: (a, b) => a + b,
        client_async: async ({ ms }) => { await sleep(ms); return { slept: ms }; },
        client_none: () => undefined,
        client_note: (p) => { seen.push(p); },
        client_fail_code: () => { throw Object.assign(new Error("teapot"), { code: 418, data: { tea: true } }); },
        client_fail: () => { throw new Error("hidden text"); },
        client_reject: () => Promise.reject(new TypeError("async failure")),
      },
    });
  });
  after(async () => { await c?.close(); });

  const cb = (method, params) => c.call("callback", { method, params });

  test("sync method, named params", async () => {
    assert.deepEqual(await cb("client_echo", { text: "hi" }), { result: "hi" });
  });
  test("positional params are the arguments", async () => {
    assert.deepEqual(await cb("client_add", [2, 40]), { result: 42 });
  });
  test("async method", async () => {
    assert.deepEqual(await cb("client_async", { ms: 30 }), { result: { slept: 30 } });
  });
  test("undefined result is null", async () => {
    assert.deepEqual(await cb("client_none"), { result: null });
  });
  test("thrown Error with code -> that JSON-RPC error", async () => {
    assert.deepEqual(await cb("client_fail_code"), { error: { code: 418, message: "teapot", data: { tea: true } } });
  });
  test("thrown Error without code -> -32603, text hidden", async () => {
    assert.deepEqual(await cb("client_fail"), { error: { code: -32603, message: "Internal server error" } });
    assert.deepEqual(await cb("client_reject"), { error: { code: -32603, message: "Internal server error" } });
  });
  test("unknown client method -> -32601", async () => {
    const r = await cb("client_nope");
    assert.equal(r.error.code, -32601);
  });
  test("register and unregister", async () => {
    c.register("late", ({ x }) => x * 2);
    assert.deepEqual(await cb("late", { x: 21 }), { result: 42 });
    assert.equal(c.unregister("late"), true);
    assert.equal((await cb("late", { x: 1 })).error.code, -32601);
    assert.throws(() => c.register("bad", 5), TypeError);
  });
  test("server notification runs a client method", async () => {
    await c.call("notify_me", { method: "client_note", params: { hello: "world" } });
    for (let i = 0; i < 50 && seen.length === 0; i++) await sleep(10);
    assert.deepEqual(seen, [{ hello: "world" }]);
  });
  test("many concurrent callbacks", async () => {
    const got = await Promise.all(Array.from({ length: 200 }, (_, i) => cb("client_async", { ms: i % 7 })));
    assert.equal(got.length, 200);
    got.forEach((r, i) => assert.deepEqual(r, { result: { slept: i % 7 } }));
  });
});

test("debug: exception text is disclosed", async () => {
  const c = await connect(server.url, { ...quiet, debug: true, methods: { f: () => { throw new RangeError("detail 42"); } } });
  try {
    const r = await c.call("callback", { method: "f" });
    assert.equal(r.error.code, -32603);
    assert.match(r.error.message, /RangeError: detail 42/);
  } finally {
    await c.close();
  }
});

test("events, close and calls after close", async () => {
  const events = [];
  const c = await connect(server.url, { ...quiet, on: { connect: (e) => events.push(["connect", e]) } });
  const closed = nextEvent(c, "close");
  const disconnected = nextEvent(c, "disconnect");
  await sleep(20);
  assert.equal(events.length, 1);
  assert.equal(events[0][1].channelId, c.channelId);
  await c.close();
  await c.close(); // idempotent
  assert.equal(c.closed, true);
  assert.equal(c.channelId, null);
  await disconnected;
  assert.deepEqual(await closed, {});
  await rejects(c.call("concat", { a: "", b: "" }), (e) => assert.equal(e.kind, "closed"));
  await rejects(c.notify("log_event", {}), (e) => assert.equal(e.kind, "closed"));
});

test("events: the client is an EventTarget of CustomEvents; on/off see their detail", async () => {
  const onConnect = [];
  const c = await connect(server.url, { ...quiet, on: { connect: (e) => onConnect.push(e) } });
  assert.ok(c instanceof EventTarget);
  const got = { on: [], listener: [], object: [], once: [], removed: [], offed: [] };
  const unsubscribe = c.on("disconnect", (e) => got.on.push(e));
  const offed = (e) => got.offed.push(e);
  c.on("close", offed);
  c.off("close", offed);
  c.addEventListener("disconnect", (e) => {
    assert.ok(e instanceof CustomEvent);
    assert.equal(e.type, "disconnect");
    assert.equal(e.target, c);
    got.listener.push(e.detail);
  });
  c.addEventListener("close", { handleEvent: (e) => got.object.push(e.detail) });
  c.addEventListener("close", (e) => got.once.push(e.detail), { once: true });
  const removed = (e) => got.removed.push(e.detail);
  c.addEventListener("disconnect", removed);
  c.removeEventListener("disconnect", removed);
  c.addEventListener("disconnect", removed, { signal: AbortSignal.abort() });
  const ac = new AbortController();
  c.addEventListener("close", removed, { signal: ac.signal });
  ac.abort();
  // A listener that throws is logged; the others still run and the process lives on.
  const errors = [];
  const consoleError = console.error;
  console.error = (...args) => errors.push(args.join(" "));
  c.addEventListener("disconnect", () => { throw new Error("listener bug"); });
  try {
    const closed = nextEvent(c, "close");
    const channelId = c.channelId;
    await c.close();
    await closed;
    await sleep(20); // (listeners added after nextEvent's run after it)
    assert.equal(onConnect.length, 1);
    assert.equal(onConnect[0].channelId, channelId);
    assert.equal(got.on.length, 1);
    assert.equal(got.on[0].channelId, channelId);
    assert.deepEqual(got.listener, got.on); // the same detail
    assert.deepEqual(got.object, [{}]);
    assert.deepEqual(got.once, [{}]);
    assert.deepEqual(got.removed, []);
    assert.deepEqual(got.offed, []);
    assert.ok(errors.some((e) => /disconnect listener threw.*listener bug/s.test(e)), errors.join("\n"));
  } finally {
    console.error = consoleError;
  }
  unsubscribe(); // (idempotent with off)
  c.off("disconnect", () => {});
  assert.throws(() => c.on("nope", () => {}), TypeError);
  assert.throws(() => c.on("close", 5), TypeError);
  assert.throws(() => c.addEventListener("close", 5), TypeError);
});

test("stats(): the core's counters as a plain object, camelCase; the final ones after close", async () => {
  const c = await connect(server.url, { ...quiet, keepalive: { interval: 0 }, methods: { client_echo: ({ text }) => text } });
  const before = c.stats();
  assert.equal(Object.getPrototypeOf(before), Object.prototype);
  assert.deepEqual(Object.keys(before).sort(), [
    "bytesIn", "bytesOut", "callsIn", "callsOut", "connections", "connectionsTotal", "errorsIn", "errorsOut",
    "inFlightIn", "inFlightOut", "messagesIn", "messagesOut", "notificationsIn", "notificationsOut", "reconnects", "rejected",
  ]);
  assert.equal(before.connections, 1);
  assert.equal(before.connectionsTotal, 1);
  assert.equal(before.reconnects, 0);
  assert.equal(await c.call("concat", { a: "a", b: "b" }), "ab");
  await rejects(c.call("no_such_method"), (e) => assert.equal(e.code, -32601));
  await c.notify("log_event", { stats: true });
  const b = c.batch();
  const entries = [b.call("add", [1, 2]), b.call("add", [3, 4])];
  b.notify("log_event", { stats: "batch" });
  await b.send();
  await Promise.all(entries);
  // The server calls the client once (callback's request in, its answer out).
  assert.deepEqual(await c.call("callback", { method: "client_echo", params: { text: "x" } }), { result: "x" });
  const after = c.stats();
  const diff = (k) => after[k] - before[k];
  assert.equal(diff("callsOut"), 5); // concat, no_such_method, 2 in the batch, callback
  assert.equal(diff("notificationsOut"), 2);
  assert.equal(diff("errorsIn"), 1);
  assert.equal(diff("callsIn"), 1);
  assert.equal(diff("messagesOut"), 6); // the batch is one message; plus callback's answer
  assert.ok(diff("bytesOut") > 0 && diff("bytesIn") > 0);
  assert.equal(after.inFlightOut, 0);
  await c.close();
  const final = c.stats();
  assert.equal(final.connections, 0);
  assert.equal(final.callsOut, after.callsOut);
  final.callsOut = -1; // a copy each time
  assert.equal(c.stats().callsOut, after.callsOut);
});

test("server closes the connection: client closes for good without auto_reconnect", async () => {
  const c = await connect(server.url, quiet);
  const closed = nextEvent(c, "close");
  const disconnected = nextEvent(c, "disconnect");
  assert.equal(await c.call("close_me"), true);
  const d = await disconnected;
  assert.equal(d.code, 1000);
  await closed;
  // Nothing is sent; the core reports the reason the client closed (the lost connection).
  await rejects(c.call("concat", {}), (e) => assert.ok(["closed", "connection_lost"].includes(e.kind), e.kind));
  await c.close();
});

test("misspelt option is an error naming it", async () => {
  await assert.rejects(connect(server.url, { ...quiet, autoReconect: true }), (e) => e instanceof TypeError && /"autoReconect"/.test(e.message));
  await assert.rejects(connect(server.url, { ...quiet, keepalive: { intervall: 1 } }), TypeError);
});

test("options are camelCase only", async () => {
  await assert.rejects(connect(server.url, { ...quiet, auto_reconnect: true }), (e) => e instanceof TypeError && /autoReconnect/.test(e.message));
  await assert.rejects(connect(server.url, { ...quiet, retry: { max_attempts: 1 } }), (e) => e instanceof TypeError && /retry\.maxAttempts/.test(e.message));
});

test("durations in options are milliseconds", async () => {
  // 300 ms; in seconds the call would wait 300 s.
  const c = await connect(server.url, { ...quiet, defaultResponseTimeout: 300 });
  try {
    await rejects(c.call("sleep", { seconds: 3 }), (e) => assert.equal(e.kind, "timeout"));
  } finally {
    await c.close();
  }
});

test("reconnect after the server restarts", async () => {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  let srv = await startServer(addr);
  const c = await connect(srv.url, {
    ...quiet,
    autoReconnect: true,
    reconnectDelay: 100,
    maxReconnectDelay: 500,
    maxReconnectAttempts: -1,
    methods: { client_echo: ({ text }) => text },
  });
  try {
    const first = c.channelId;
    assert.equal(await c.call("concat", { a: "before", b: "!" }), "before!");
    const disconnected = nextEvent(c, "disconnect");
    const reconnecting = nextEvent(c, "reconnecting");
    await srv.stop("SIGKILL");
    await disconnected;
    const r = await reconnecting;
    assert.equal(r.attempt, 1);
    assert.ok(r.delay >= 50 && r.delay <= 500, `delay ${r.delay} ms`); // milliseconds, jittered
    const connected = nextEvent(c, "connect", 15000);
    // A call made during the outage waits for the new connection.
    const during = c.call("concat", { a: "during", b: "!" }, { timeout: 15000 });
    await sleep(300);
    srv = await startServer(addr);
    const e = await connected;
    assert.notEqual(e.channelId, first);
    assert.equal(await during, "during!");
    assert.equal(await c.call("concat", { a: "after", b: "!" }), "after!");
    assert.deepEqual(await c.call("callback", { method: "client_echo", params: { text: "back" } }), { result: "back" });
  } finally {
    await c.close();
    await srv.stop();
  }
});

test("keepalive (JSON-RPC ping) detects a frozen server", async () => {
  const srv = await startServer();
  const c = await connect(srv.url, { ...quiet, keepalive: { interval: 200, maxConsecutiveFailures: 2 } });
  try {
    await sleep(500); // pings answered: still connected
    assert.equal(await c.call("concat", { a: "a", b: "b" }), "ab");
    const disconnected = nextEvent(c, "disconnect", 5000);
    const closed = nextEvent(c, "close", 5000);
    srv.proc.kill("SIGSTOP");
    const d = await disconnected;
    assert.match(d.error, /keepalive/);
    assert.match((await closed).error, /keepalive/);
  } finally {
    srv.proc.kill("SIGCONT");
    await c.close();
    await srv.stop();
  }
});

test("send backpressure: writes wait on the socket's buffer, the send queue is bounded", async () => {
  const srv = await startServer();
  const c = await connect(srv.url, { ...quiet, maxSendQueueSize: 4 });
  try {
    srv.proc.kill("SIGSTOP"); // the server stops reading: the socket's buffer fills
    const big = "x".repeat(256 << 10);
    const pending = Promise.allSettled(Array.from({ length: 100 }, () => c.notify("log_event", { big })));
    await sleep(500); // the queued writes wait for the buffer to drain...
    srv.proc.kill("SIGCONT"); // ...which it does once the server reads again
    const results = await pending;
    const kinds = new Set(results.filter((r) => r.status === "rejected").map((r) => r.reason.kind));
    assert.deepEqual([...kinds], ["backpressure"]);
    assert.ok(results.some((r) => r.status === "fulfilled"));
  } finally {
    srv.proc.kill("SIGCONT");
    await c.close();
    await srv.stop();
  }
});

test("incoming message over max_message_size closes the connection", async () => {
  const c = await connect(server.url, { ...quiet, maxMessageSize: 1000 });
  const disconnected = nextEvent(c, "disconnect");
  // Outgoing: refused locally, nothing sent, the connection stays.
  await rejects(c.call("echo", { s: "y".repeat(1000) }), (e) => assert.equal(e.kind, "message_too_large"));
  assert.equal(await c.call("concat", { a: "still", b: " open" }), "still open");
  // Incoming: the answer is too large, the client closes the connection.
  await rejects(c.call("big", { n: 2000 }), (e) => assert.equal(e.kind, "message_too_large"));
  assert.match((await disconnected).error, /too large/);
  await c.close();
  // The close code 1009 is sent as 4009 (browsers accept only 1000 and 3000-4999).
  assert.deepEqual(await closeReceived(4009), { code: 4009, reason: "message too big" });
});

// A close frame with code that the server received, once it has one.
async function closeReceived(code) {
  const c = await connect(server.url, quiet);
  try {
    for (let i = 0; i < 100; i++) {
      const found = (await c.call("closes")).find((s) => s.code === code);
      if (found) return found;
      await sleep(20);
    }
    return undefined;
  } finally {
    await c.close();
  }
}
