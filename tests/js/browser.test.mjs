// Real headless Chromium (Debian's /usr/bin/chromium via playwright-core): the browser
// example page against the Go bidi-server, and the binding's API inside the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startProcess, startServer, freePort, bin, root } from "./harness.mjs";
import { runPage } from "./page.mjs";

const procs = [];
let bidiURL, staticURL, proxyURL, testServer;

async function start(name, args, re) {
  const { proc, match } = await startProcess(bin(name), args, re);
  procs.push(proc);
  return match[1];
}

before(async () => {
  const port = await freePort();
  await start("bidi-server", ["-addr", `127.0.0.1:${port}`, "-wait", "300ms", "-origins", "127.0.0.1:*"], /(serving)/);
  bidiURL = `ws://127.0.0.1:${port}/ws`;
  const dirs = ["-root", `${root}examples/browser`, "-js", `${root}build/js`];
  staticURL = await start("static-server", ["-addr", "127.0.0.1:0", ...dirs], /serving (http:\/\/\S+)/);
  proxyURL = await start("static-server", ["-addr", "127.0.0.1:0", ...dirs, "-upstream", bidiURL], /serving (http:\/\/\S+)/);
  testServer = await startServer("127.0.0.1:0", ["-origins", "127.0.0.1:*"]);
});

after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await testServer?.stop();
});

function assertExchange({ state, lines, consoleErrors }) {
  const text = lines.map((l) => l.text);
  assert.equal(state, "done", text.join("\n"));
  assert.deepEqual(consoleErrors, []);
  assert.ok(text.includes("server called allow_queries()"), text.join("\n"));
  const i = text.indexOf('concat("hello", " world")');
  assert.ok(i > text.indexOf("server called allow_queries()"), "concat after allow_queries");
  // The server calls allow_exit from a goroutine as it answers: either may arrive first.
  assert.ok(text.indexOf('"hello world"') > i, text.join("\n"));
  assert.ok(text.some((t) => /^server called allow_exit\(delay=[1-4]\)$/.test(t)), text.join("\n"));
  assert.equal(text.at(-1), "exit allowed: done");
}

test("example page, cross-origin to bidi-server (-origins)", async () => {
  const r = await runPage(`${staticURL}?url=${encodeURIComponent(bidiURL)}`, { screenshot: `${root}build/browser-example.png` });
  try {
    assertExchange(r);
    // The page's own form: another concat, answered and followed by allow_exit.
    await r.page.fill("#a", "foo");
    await r.page.fill("#b", "bar");
    await r.page.click("button");
    await r.page.waitForFunction(() => [...document.querySelectorAll("#log li")].some((li) => li.textContent === '"foobar"'));
  } finally {
    await r.browser.close();
  }
});

test("example page, same origin through static-server's /ws proxy", async () => {
  const r = await runPage(proxyURL);
  await r.browser.close();
  assertExchange(r);
});

test("binding API inside Chromium", async () => {
  const r = await runPage(`${staticURL}?url=${encodeURIComponent(bidiURL)}`);
  r.page.on("console", (m) => console.log(`  [page] ${m.text()}`));
  try {
    const refusedURL = `ws://127.0.0.1:${await freePort()}/ws`;
    const out = await r.page.evaluate(async ([url, refusedURL]) => {
      const { connect, RpcError } = await import("/js/wsrpc.mjs");
      const res = {};
      const seen = [];
      let heldCancelled;
      const cancelled = new Promise((r) => { heldCancelled = r; });
      let heldStarted;
      const started = new Promise((r) => { heldStarted = r; });
      const c = await connect(url, {
        keepalive: { interval: 500 },
        methods: {
          client_echo: ({ text }) => text,
          client_fail: () => { throw Object.assign(new Error("teapot"), { code: 418 }); },
          client_slow: async ({ ms }) => { await new Promise((r) => setTimeout(r, ms)); return ms; },
          held_started: ({ token }) => heldStarted(token),
          held_cancelled: ({ token }) => heldCancelled(token),
        },
        on: { disconnect: (e) => seen.push(e) },
      });
      res.concat = await c.call("concat", { a: "in ", b: "chromium" });
      res.positional = await c.call("add", [40, 2]);
      try { await c.call("nope"); } catch (e) { res.notFound = [e instanceof RpcError, e.kind, e.code]; }
      try { await c.call("concat", { a: 1 }); } catch (e) { res.badParams = e.code; }
      res.callback = await c.call("callback", { method: "client_echo", params: { text: "back" } });
      res.callbackErr = await c.call("callback", { method: "client_fail" });
      const t0 = performance.now();
      const many = await Promise.all(Array.from({ length: 200 }, (_, i) => c.call("callback", { method: "client_slow", params: { ms: i % 9 } })));
      res.many = many.every((r, i) => r.result === i % 9);
      console.log(`200 concurrent callbacks: ${Math.round(performance.now() - t0)} ms`);
      await new Promise((r) => setTimeout(r, 1200)); // keepalive pings (JSON-RPC) in between
      res.afterKeepalive = await c.call("concat", { a: "still ", b: "up" });
      try { await c.call("sleep", { seconds: 2 }, { signal: AbortSignal.abort() }); } catch (e) { res.aborted = e.name; }
      // The browser's WebSocket was offered jsonrpc2.0+wsrpc: an abort cancels the handler.
      res.extended = await c.call("extended");
      const ac = new AbortController();
      const held = c.call("hold", { token: "browser" }, { signal: ac.signal }).catch((e) => e.name);
      await started;
      ac.abort();
      res.heldCancelled = await Promise.race([cancelled, new Promise((r) => setTimeout(() => r("no cancellation within 5 s"), 5000))]);
      res.held = await held;
      const b = c.batch();
      const entries = [b.call("concat", { a: "bat", b: "ch" }), b.call("nope").catch((e) => e.code)];
      b.notify("log_event", { from: "browser" });
      await b.send();
      res.batch = await Promise.all(entries);
      const viaTarget = [];
      c.addEventListener("disconnect", (e) => viaTarget.push(e instanceof CustomEvent && e.detail.code));
      res.eventTarget = c instanceof EventTarget;
      try {
        await connect(refusedURL, { retry: { enabled: false }, logLevel: "silent" });
      } catch (e) {
        res.refused = [e instanceof RpcError, e.kind, /1006/.test(e.message), /use of closed/.test(e.message)];
      }
      res.globals = ["Go", "__wsrpc", "__wsrpc_ready", "fs", "process", "path"].filter((k) => k in globalThis);
      await c.call("close_me");
      await new Promise((r) => setTimeout(r, 300));
      res.disconnect = seen.map((e) => e.code);
      res.disconnectEvent = viaTarget;
      await c.close();
      return res;
    }, [testServer.url, refusedURL]);
    assert.deepEqual(out, {
      concat: "in chromium",
      positional: 42,
      notFound: [true, "remote", -32601],
      badParams: -32602,
      callback: { result: "back" },
      callbackErr: { error: { code: 418, message: "teapot" } },
      many: true,
      afterKeepalive: "still up",
      aborted: "AbortError",
      extended: true,
      heldCancelled: "browser",
      held: "AbortError",
      batch: ["batch", -32601],
      eventTarget: true,
      refused: [true, "connect", true, false],
      globals: [],
      disconnect: [1000],
      disconnectEvent: [1000],
    });
  } finally {
    await r.browser.close();
  }
});
