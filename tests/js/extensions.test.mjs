// Batches and cancellation on the wire from JavaScript, against the Go test server (a wsrpc
// peer, path /ws) and its Python-like peer (path /py: answers a batch with one -32600
// "Expected dict" error object and offers no extensions, as fastapi-ws-rpc does). Run once
// per WebSocket the binding can use here, as failures.test.mjs is (WSRPC_TEST_WEBSOCKET=ws).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startServer, sleep } from "./harness.mjs";

if (process.env.WSRPC_TEST_WEBSOCKET === "ws") delete globalThis.WebSocket;
const impl = typeof globalThis.WebSocket === "function" ? "global WebSocket" : "ws";
const { connect, RpcError, Batch } = await import("wsrpc");

const quiet = { logLevel: "silent" };
let server, pyURL;
before(async () => {
  server = await startServer();
  pyURL = server.url.replace(/\/ws$/, "/py");
});
after(async () => { await server?.stop(); });

async function rejects(promise, check) {
  await assert.rejects(promise, (e) => { check(e); return true; });
}

// The messages the Python-like peer received, parsed.
async function pyReceived() {
  const res = await fetch(server.url.replace(/^ws/, "http").replace(/\/ws$/, "/py/received"));
  return (await res.json()).map((m) => JSON.parse(m));
}

describe(`[${impl}] batches`, () => {
  let c;
  before(async () => { c = await connect(server.url, quiet); });
  after(async () => { await c?.close(); });

  test("calls and notifications in one batch; each entry settles with its own answer", async () => {
    const b = c.batch();
    assert.ok(b instanceof Batch);
    const concat = b.call("concat", { a: "hello", b: " world" });
    assert.equal(b.notify("log_event", { batch: "note" }), b);
    const sum = b.call("add", [2, 3.5]);
    const missing = b.call("no_such_method", {});
    const failed = b.call("fail", { code: 4321, message: "nope", data: { why: 1 } });
    const none = b.call("echo");
    assert.equal(b.length, 6);
    assert.equal(await b.send(), undefined);
    assert.equal(await concat, "hello world");
    assert.equal(await sum, 5.5);
    assert.equal(await none, null);
    await rejects(missing, (e) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.kind, "remote");
      assert.equal(e.code, -32601);
    });
    await rejects(failed, (e) => {
      assert.equal(e.code, 4321);
      assert.deepEqual(e.data, { why: 1 });
    });
    // The notification ran too.
    let events = [];
    for (let i = 0; i < 100 && !events.some((e) => e.batch === "note"); i++) {
      await sleep(20);
      events = await c.call("events");
    }
    assert.ok(events.some((e) => e.batch === "note"));
  });

  test("entries resolve together with send: Promise.all", async () => {
    const b = c.batch();
    const got = await Promise.all([...Array.from({ length: 50 }, (_, i) => b.call("concat", { a: `x${i}`, b: "!" })), b.send()]);
    assert.deepEqual(got.slice(0, 50), Array.from({ length: 50 }, (_, i) => `x${i}!`));
  });

  test("an entry's timeout and signal apply to it alone", async () => {
    const b = c.batch();
    const ac = new AbortController();
    const slow = b.call("sleep", { seconds: 3 }, { timeout: 100 });
    const aborted = b.call("sleep", { seconds: 3 }, { signal: ac.signal });
    const fast = b.call("concat", { a: "a", b: "b" });
    await b.send();
    ac.abort();
    assert.equal(await fast, "ab");
    await rejects(slow, (e) => assert.equal(e.kind, "timeout"));
    await rejects(aborted, (e) => assert.equal(e, ac.signal.reason));
  });

  test("send's signal: aborted before sending, nothing goes and every entry rejects", async () => {
    const b = c.batch();
    const p = b.call("concat", { a: "a", b: "b" });
    const why = new Error("changed my mind");
    await rejects(b.send({ signal: AbortSignal.abort(why) }), (e) => assert.equal(e, why));
    await rejects(p, (e) => assert.equal(e, why));
  });

  test("bad input: clear errors, never sent", async () => {
    const b = c.batch();
    assert.throws(() => b.call("echo", 5), TypeError);
    assert.throws(() => b.notify("echo", "x"), TypeError);
    assert.throws(() => c.batch({ split: true }), TypeError);
    assert.throws(() => b.call("echo", {}, { signal: {} }), TypeError);
    assert.equal(b.length, 0);
    await rejects(b.send(), (e) => assert.equal(e.kind, "invalid_argument")); // empty
    await rejects(b.send(), (e) => assert.equal(e.kind, "invalid_argument")); // sent already
    assert.throws(() => b.call("echo", {}), (e) => e.kind === "invalid_argument");
  });

  test("send's signal that is not an AbortSignal: a TypeError, and the entries reject with it", async () => {
    const b = c.batch();
    const p = b.call("concat", { a: "a", b: "b" });
    await rejects(b.send({ signal: { aborted: false } }), (e) => assert.ok(e instanceof TypeError));
    await rejects(p, (e) => assert.ok(e instanceof TypeError));
  });

  test("an odd value past the loader's checks: an Error, no unhandled rejection, Go keeps running", async () => {
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    const consoleError = console.error;
    console.error = () => {}; // (the Go side logs the internal error)
    try {
      // The second entry's "signal" has no addEventListener: the Go side fails on it after
      // the first entry was read.
      const entries = [["concat", JSON.stringify({ a: "a", b: "b" }), true, undefined, undefined], ["echo", undefined, true, undefined, { aborted: false }]];
      assert.throws(() => c._sendBatch(entries, false, undefined), /internal error/);
      await sleep(100);
      assert.deepEqual(unhandled, []);
      assert.equal(await c.call("concat", { a: "still", b: " alive" }), "still alive");
    } finally {
      console.error = consoleError;
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("a batch over the server's limit: every entry rejects with its -32600", async () => {
    const b = c.batch();
    const entries = Array.from({ length: 101 }, (_, i) => b.call("add", [i, 1]));
    await b.send();
    for (const p of entries) await rejects(p, (e) => assert.equal(e.code, -32600));
  });

  test("failed entries nobody awaits raise no unhandled rejection", async () => {
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const b = c.batch();
      b.call("no_such_method");
      b.call("sleep", { seconds: 3 }, { timeout: 10 });
      await b.send();
      await c.call("sleep", { seconds: 0.2 }); // the entries have failed by now
      await sleep(50);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("a closed client: send rejects with kind closed, and so do the entries", async () => {
    const d = await connect(server.url, quiet);
    const b = d.batch();
    const p = b.call("concat", { a: "a", b: "b" });
    await d.close();
    await rejects(b.send(), (e) => assert.equal(e.kind, "closed"));
    await rejects(p, (e) => assert.equal(e.kind, "closed"));
  });
});

describe(`[${impl}] batches against a peer without them (Python)`, () => {
  test("every call of the batch rejects with kind batch_unsupported; later batches at once", async () => {
    const c = await connect(pyURL, quiet);
    try {
      const b = c.batch();
      const one = b.call("echo", [1]);
      b.notify("log_event", {});
      const two = b.call("echo", [2]);
      await b.send();
      for (const p of [one, two]) {
        await rejects(p, (e) => {
          assert.ok(e instanceof RpcError);
          assert.equal(e.kind, "batch_unsupported");
          assert.match(e.message, /Expected dict/);
        });
      }
      const again = c.batch();
      const three = again.call("echo", [3]);
      await rejects(again.send(), (e) => assert.equal(e.kind, "batch_unsupported"));
      await rejects(three, (e) => assert.equal(e.kind, "batch_unsupported"));
      assert.deepEqual(await c.call("echo", ["single calls work"]), ["single calls work"]);
    } finally {
      await c.close();
    }
  });

  test("splitUnsupported: the entries go one by one instead", async () => {
    const c = await connect(pyURL, quiet);
    try {
      for (let round = 0; round < 2; round++) {
        const b = c.batch({ splitUnsupported: true });
        const one = b.call("echo", [round, 1]);
        b.notify("note", { round });
        const two = b.call("echo", { round, n: 2 });
        await b.send();
        assert.deepEqual(await one, [round, 1]);
        assert.deepEqual(await two, { round, n: 2 });
      }
    } finally {
      await c.close();
    }
  });
});

// Resolves with the held_started / held_cancelled notifications of the hold method by token.
function holdWatcher() {
  const waiting = new Map(); // `${kind} ${token}` -> resolve
  const seen = new Map(); // `${kind} ${token}` -> performance.now() when it arrived
  const note = (kind) => ({ token }) => {
    const key = `${kind} ${token}`;
    seen.set(key, performance.now());
    waiting.get(key)?.(seen.get(key));
  };
  return {
    methods: { held_started: note("started"), held_cancelled: note("cancelled") },
    /** The time the notification kind for token arrived (rejects after ms). */
    next(kind, token, ms = 5000) {
      const key = `${kind} ${token}`;
      if (seen.has(key)) return Promise.resolve(seen.get(key));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no held_${kind} for ${token} within ${ms} ms`)), ms);
        waiting.set(key, (at) => { clearTimeout(t); resolve(at); });
      });
    },
  };
}

describe(`[${impl}] cancellation on the wire`, () => {
  test("the handshake agrees on jsonrpc2.0+wsrpc with a wsrpc server", async () => {
    const c = await connect(server.url, quiet);
    try {
      assert.equal(await c.call("extended"), true);
    } finally {
      await c.close();
    }
  });

  test("an aborted call cancels the peer's handler: 5 times, each within 5 s, median <= 50 ms", async () => {
    const w = holdWatcher();
    const c = await connect(server.url, { ...quiet, methods: w.methods });
    const latencies = [];
    try {
      for (let i = 0; i < 5; i++) {
        const token = `abort-${impl}-${i}`;
        const ac = new AbortController();
        const call = c.call("hold", { token }, { signal: ac.signal });
        const outcome = call.then(() => "resolved", (e) => e); // settles while we wait below
        await w.next("started", token);
        const t0 = performance.now();
        ac.abort();
        // Measured up to the handler's report arriving back here: an upper bound.
        const at = await w.next("cancelled", token, 5000);
        latencies.push(at - t0);
        assert.equal(await outcome, ac.signal.reason);
      }
    } finally {
      await c.close();
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[2];
    console.log(`  [${impl}] abort -> handler's ctx.Done() reported back: ${latencies.map((l) => l.toFixed(1)).join(", ")} ms; median ${median.toFixed(1)} ms`);
    assert.ok(median <= 50, `median ${median} ms`);
  });

  test("a call's timeout, a batch entry's signal and a sent batch's signal cancel the peer's handler too", async () => {
    const w = holdWatcher();
    const c = await connect(server.url, { ...quiet, methods: w.methods });
    try {
      const timedOut = c.call("hold", { token: `timeout-${impl}` }, { timeout: 200 });
      await rejects(timedOut, (e) => assert.equal(e.kind, "timeout"));
      await w.next("cancelled", `timeout-${impl}`);

      const b = c.batch();
      const ac = new AbortController();
      const entry = b.call("hold", { token: `batch-${impl}` }, { signal: ac.signal }); // (marked handled)
      const other = b.call("concat", { a: "still", b: " answered" });
      await b.send();
      await w.next("started", `batch-${impl}`);
      ac.abort();
      await w.next("cancelled", `batch-${impl}`);
      await rejects(entry, (e) => assert.equal(e, ac.signal.reason));
      assert.equal(await other, "still answered");

      // send's signal, aborted once the batch is out: the calls still waiting are cancelled
      // (all of them: a wsrpc peer answers a batch in one message, once every member is done).
      const whole = new AbortController();
      const b2 = c.batch();
      const held = b2.call("hold", { token: `batch-send-${impl}` });
      const done = b2.call("concat", { a: "answered", b: " with the batch" });
      await b2.send({ signal: whole.signal });
      await w.next("started", `batch-send-${impl}`);
      whole.abort();
      await w.next("cancelled", `batch-send-${impl}`);
      await rejects(held, (e) => assert.equal(e, whole.signal.reason));
      await rejects(done, (e) => assert.equal(e, whole.signal.reason));
    } finally {
      await c.close();
    }
  });

  test("a Python peer never receives $/cancelRequest", async () => {
    const c = await connect(pyURL, quiet);
    try {
      const ac = new AbortController();
      const hang = c.call("hang", { token: `py-${impl}` }, { signal: ac.signal });
      const outcome = hang.then(() => "resolved", (e) => e);
      await sleep(100);
      ac.abort();
      assert.equal(await outcome, ac.signal.reason);
      await rejects(c.call("hang", {}, { timeout: 100 }), (e) => assert.equal(e.kind, "timeout"));
      // Calls after the cancellations: had one been sent, it would have arrived before them.
      assert.deepEqual(await c.call("echo", ["after"]), ["after"]);
      assert.deepEqual(await c.call("echo", ["after again"]), ["after again"]);
      const got = await pyReceived();
      assert.ok(got.some((m) => m.params?.token === `py-${impl}`), "the call itself arrived");
      assert.deepEqual(got.filter((m) => m.method === "$/cancelRequest"), []);
    } finally {
      await c.close();
    }
  });
});
