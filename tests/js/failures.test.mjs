// Failures never take the Go runtime or the process down: each is a rejected Promise or an
// event, and the module keeps working afterwards. Run once per WebSocket the binding can
// use here: WSRPC_TEST_WEBSOCKET=ws hides the global WebSocket (Node >= 22) so that the
// "ws" package is used; otherwise the global one is, where there is one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { startServer, freePort, nextEvent } from "./harness.mjs";

if (process.env.WSRPC_TEST_WEBSOCKET === "ws") delete globalThis.WebSocket;
const impl = typeof globalThis.WebSocket === "function" ? "global WebSocket" : "ws";
const globalsBefore = new Set(Reflect.ownKeys(globalThis));
const { connect, RpcError } = await import("wsrpc");

const quiet = { logLevel: "silent" };
let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// The Go program still serves: a fresh connection answers a call.
async function assertAlive() {
  const c = await connect(server.url, quiet);
  try {
    assert.equal(await c.call("concat", { a: "still", b: " alive" }), "still alive");
  } finally {
    await c.close();
  }
}

async function rejects(promise, check) {
  await assert.rejects(promise, (e) => { check(e); return true; });
}

test(`[${impl}] refused connection: a connect error naming the cause`, async () => {
  const port = await freePort();
  await rejects(connect(`ws://127.0.0.1:${port}/ws`, { ...quiet, retry: { enabled: false } }), (e) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.kind, "connect");
    assert.doesNotMatch(e.message, /use of closed network connection/);
    // "ws" says why; Node 22's WebSocket only reports a network error and close code 1006.
    assert.match(e.message, impl === "ws" ? /connection refused/ : /1006/);
  });
  await assertAlive();
});

test(`[${impl}] refused connection with retries: the last cause`, async () => {
  const port = await freePort();
  await rejects(connect(`ws://127.0.0.1:${port}/ws`, { ...quiet, retry: { maxAttempts: 3, minWait: 10, maxWait: 20 } }), (e) => {
    assert.equal(e.kind, "connect");
    assert.match(e.message, impl === "ws" ? /connection refused/ : /1006/);
  });
  await assertAlive();
});

test(`[${impl}] DNS failure: a connect error`, async () => {
  await rejects(connect("ws://no-such-host.invalid/ws", { ...quiet, retry: { enabled: false } }), (e) => {
    assert.equal(e.kind, "connect");
    assert.doesNotMatch(e.message, /use of closed network connection/);
    assert.match(e.message, impl === "ws" ? /no such host|name resolution/ : /1006/);
  });
  await assertAlive();
});

test(`[${impl}] server gone mid-call: the call rejects, events tell`, async () => {
  const srv = await startServer();
  const c = await connect(srv.url, quiet);
  try {
    const disconnected = nextEvent(c, "disconnect");
    const closed = nextEvent(c, "close");
    const lost = rejects(c.call("sleep", { seconds: 30 }), (e) => assert.equal(e.kind, "connection_lost"));
    assert.equal(await c.call("concat", { a: "x", b: "y" }), "xy"); // the sleep is in flight
    await srv.stop("SIGKILL");
    await lost;
    const d = await disconnected;
    assert.equal(d.code, -1); // no close frame
    assert.equal(typeof d.error, "string");
    await closed;
    await rejects(c.call("concat", { a: "", b: "" }), (e) => assert.ok(["closed", "connection_lost"].includes(e.kind), e.kind));
  } finally {
    await c.close();
    await srv.stop();
  }
  await assertAlive();
});

test(`[${impl}] server gone, reconnecting: events carry the cause`, async () => {
  const srv = await startServer();
  const c = await connect(srv.url, { ...quiet, autoReconnect: true, reconnectDelay: 20, maxReconnectDelay: 50, maxReconnectAttempts: -1 });
  try {
    const first = nextEvent(c, "reconnecting");
    await srv.stop("SIGKILL");
    await first;
    // The first attempt is scheduled before any failed; the second reports why the first failed.
    const second = await nextEvent(c, "reconnecting");
    assert.doesNotMatch(second.error, /use of closed network connection/);
    assert.match(second.error, impl === "ws" ? /connection refused/ : /1006/);
  } finally {
    await c.close();
  }
  await assertAlive();
});

test(`[${impl}] 200 connect/close cycles`, async () => {
  for (let i = 0; i < 200; i++) {
    const c = await connect(server.url, quiet);
    assert.equal(await c.call("add", [i, 1]), i + 1);
    await c.close();
  }
  await assertAlive();
});

test(`[${impl}] methods that throw or reject anything are answered, never fatal`, async () => {
  const circular = {};
  circular.self = circular;
  const c = await connect(server.url, {
    ...quiet,
    methods: {
      throwsNull: () => { throw null; },
      throwsString: () => { throw "plain string"; },
      rejectsUndefined: () => Promise.reject(undefined),
      badResult: () => 10n, // not JSON
      circularData: () => { throw Object.assign(new Error("with data"), { code: 7, data: circular }); },
      throwsDeep: () => { const f = () => f(); f(); },
    },
  });
  try {
    for (const method of ["throwsNull", "throwsString", "rejectsUndefined", "badResult", "throwsDeep"]) {
      assert.deepEqual(await c.call("callback", { method }), { error: { code: -32603, message: "Internal server error" } }, method);
    }
    assert.deepEqual(await c.call("callback", { method: "circularData" }), { error: { code: 7, message: "with data" } });
  } finally {
    await c.close();
  }
  await assertAlive();
});

test(`[${impl}] connect: AbortSignal rejects with signal.reason`, async () => {
  // A server that accepts TCP connections and never answers the handshake.
  const sockets = new Set();
  const silent = createServer((s) => { sockets.add(s); s.on("error", () => {}); });
  await new Promise((r) => silent.listen(0, "127.0.0.1", r));
  const url = `ws://127.0.0.1:${silent.address().port}/ws`;
  try {
    const ac = new AbortController();
    const p = connect(url, { ...quiet, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await rejects(p, (e) => {
      assert.equal(e, ac.signal.reason);
      assert.equal(e.name, "AbortError");
    });
    await rejects(connect(url, { ...quiet, signal: AbortSignal.timeout(100) }), (e) => assert.equal(e.name, "TimeoutError"));
    const why = new Error("changed my mind");
    await rejects(connect(server.url, { ...quiet, signal: AbortSignal.abort(why) }), (e) => assert.equal(e, why));
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
  await assertAlive();
});

test(`[${impl}] nothing of ours on globalThis`, async () => {
  await assertAlive();
  const added = Reflect.ownKeys(globalThis).filter((k) => !globalsBefore.has(k));
  assert.deepEqual(added, []);
});

// Child processes: how the process itself fares.
const here = fileURLToPath(new URL(".", import.meta.url));

function run(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd: here, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { out += d; });
    p.on("exit", (code, signal) => resolve({ code, signal, out }));
  });
}

const script = (body) => `
  const { connect } = await import("wsrpc");
  ${body}
`;

test(`[${impl}] the process ends by itself once clients are closed`, async () => {
  const env = { WSRPC_TEST_URL: server.url };
  const code = script(`
    const c = await connect(process.env.WSRPC_TEST_URL, { logLevel: "silent", keepalive: { interval: 50 }, autoReconnect: true });
    console.log(await c.call("concat", { a: "o", b: "k" }));
    await c.close();
  `);
  const pre = process.env.WSRPC_TEST_WEBSOCKET === "ws" ? "delete globalThis.WebSocket;" : "";
  const r = await run(["--input-type=module", "-e", pre + code], env);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out.trim(), "ok");
});

test("no WebSocket and no \"ws\": connect() rejects with a clear error", async () => {
  const code = script(`
    try {
      await connect(process.env.WSRPC_TEST_URL, { logLevel: "silent" });
      console.log("connected?");
    } catch (e) {
      console.log(e.name, e.kind, e.message);
    }
  `);
  const r = await run(["--import", "./no-websocket.mjs", "--input-type=module", "-e", code], { WSRPC_TEST_URL: server.url });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out.trim(), /^RpcError connect .*no global WebSocket.*"ws" package is not installed/);
});

test("a user's own \"ws\" class as globalThis.WebSocket: a refused connection is a rejection", async () => {
  // Measured before the adapter moved into the library: the Go runtime deadlocked and the
  // process exited ("all goroutines are asleep").
  const port = await freePort();
  const code = `
    import { WebSocket } from "ws";
    globalThis.WebSocket = WebSocket;
    const { connect } = await import("wsrpc");
    for (let i = 0; i < 3; i++) {
      try {
        await connect("ws://127.0.0.1:${port}/ws", { logLevel: "silent", retry: { enabled: false } });
      } catch (e) {
        console.log(e.kind, e.message);
      }
    }
    const c = await connect(process.env.WSRPC_TEST_URL, { logLevel: "silent" });
    console.log(await c.call("concat", { a: "o", b: "k" }));
    await c.close();
  `;
  const r = await run(["--input-type=module", "-e", code], { WSRPC_TEST_URL: server.url });
  assert.equal(r.code, 0, r.out);
  const lines = r.out.trim().split("\n");
  assert.equal(lines.length, 4, r.out);
  for (const l of lines.slice(0, 3)) assert.match(l, /^connect .*connection refused/);
  assert.equal(lines[3], "ok");
});
