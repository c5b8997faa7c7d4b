// Test harness: Go server processes for the tests of the JavaScript binding.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const bin = (name) => `${root}build/bin/${name}`;

/** Starts a Go program that prints a line matching re once it listens; resolves with the match. */
export function startProcess(cmd, args, re, { timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error(`${cmd}: not ready after ${timeout} ms:\n${out}`)); }, timeout);
    const onData = (d) => {
      out += d;
      const m = out.match(re);
      if (m) {
        clearTimeout(timer);
        proc.stdout.off("data", onData);
        proc.stderr.off("data", onData);
        proc.stdout.resume();
        proc.stderr.resume();
        resolve({ proc, match: m });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}):\n${out}`)); });
  });
}

/** Starts the test server (tests/js/server) on addr; resolves with { proc, url, stop }. */
export async function startServer(addr = "127.0.0.1:0", extra = []) {
  const { proc, match } = await startProcess(bin("wsrpc-js-testserver"), ["-addr", addr, ...extra], /listening (ws:\/\/\S+)/);
  proc.removeAllListeners("exit");
  const exited = new Promise((r) => proc.on("exit", r));
  return {
    proc,
    url: match[1],
    async stop(signal = "SIGKILL") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Resolves with the next event of kind from client c (or rejects after ms). */
export function nextEvent(c, kind, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { off(); reject(new Error(`no ${kind} event within ${ms} ms`)); }, ms);
    const off = c.on(kind, (e) => { clearTimeout(t); off(); resolve(e); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
