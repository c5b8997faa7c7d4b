// wsrpc for browsers and Node: bidirectional JSON-RPC 2.0 over WebSockets, wire-compatible
// with fastapi-ws-rpc. The protocol runs in Go (wsrpc.wasm, the same core as the Go
// library); this module only loads it and translates between JavaScript and Go.
//
//   import { connect } from "./wsrpc.mjs";
//   const c = await connect("ws://127.0.0.1:9000/ws", { methods: { client_echo: ({ text }) => text } });
//   await c.call("concat", { a: "hello", b: " world" });   // "hello world"
//
// wsrpc.wasm is looked up next to this file (new URL("./wsrpc.wasm", import.meta.url), which
// bundlers that handle asset URLs copy) unless load() is told otherwise; wasm_exec.mjs is the
// Go toolchain's wasm_exec.js (the one that built the .wasm) as a module. The WebSocket is the
// platform's (browsers, Node >= 22) or else the optional "ws" package's (Node 20: npm install
// ws). Nothing here imports from node:, so that bundlers for browsers take this file as it
// is; under Node, the package's entry point is node.mjs, which hands this file a reader of
// local files.
//
// Nothing of ours lands on globalThis: wasm_exec.js and the Go program run with a private
// global object (a Proxy over globalThis) that holds Go's own names (Go, and fs, process,
// path where the platform lacks them), the WebSocket class and the loader's "wsrpc" host
// object, through which the Go program hands over its API.

import { findWebSocket, dialFailures } from "./websocket.mjs";
import runWasmExec from "./wasm_exec.mjs";

let readFile = null; // (URL) => Promise<Uint8Array>, for file: URLs; set by node.mjs

/** @internal node.mjs hands over node:fs/promises' readFile. */
export function _setFileReader(fn) { readFile = fn; }

async function readBytes(url) {
  if (url.protocol === "file:") {
    // Node without node.mjs (this file imported by its path): Node >= 20.16 has
    // process.getBuiltinModule, which bundlers do not follow.
    const read = readFile ?? globalThis.process?.getBuiltinModule?.("node:fs/promises")?.readFile;
    if (!read) throw new Error(`wsrpc: cannot read ${url} here (import the package "wsrpc" under Node)`);
    return read(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`wsrpc: fetching ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A global object for Go: reads fall through to globalThis, writes stay in own. */
function privateGlobal(own) {
  return new Proxy(globalThis, {
    get: (t, k) => (Object.hasOwn(own, k) ? own[k] : Reflect.get(t, k)),
    set: (t, k, v) => { own[k] = v; return true; },
    has: (t, k) => Object.hasOwn(own, k) || Reflect.has(t, k),
    deleteProperty: (t, k) => delete own[k],
  });
}

let loading = null; // Promise<{ api, WebSocket, pending: Set<reject>, exited: boolean }>

/**
 * Loads and starts the wasm module once (connect() calls it). Options: wasm and wasmExec
 * are URLs (or paths relative to this module) of wsrpc.wasm and wasm_exec.js; without
 * wasmExec, the wasm_exec.js this package was built with (wasm_exec.mjs) is used.
 */
export function load(options = {}) {
  return loadState(options).then((s) => s.api);
}

function loadState(options) {
  if (loading) return loading;
  loading = (async () => {
    // The literal new URL("./wsrpc.wasm", import.meta.url) is what bundlers recognise.
    const wasmURL = options.wasm ? new URL(options.wasm, import.meta.url) : new URL("./wsrpc.wasm", import.meta.url);
    const execURL = options.wasmExec ? new URL(options.wasmExec, import.meta.url) : null;
    const [WebSocket, execCode, bytes] = await Promise.all([
      findWebSocket(),
      execURL && readBytes(execURL).then((b) => new TextDecoder().decode(b)),
      readBytes(wasmURL),
    ]);
    const own = { WebSocket };
    const scope = privateGlobal(own);
    // wasm_exec.js is a classic script that defines globalThis.Go: run it with our global.
    if (execCode != null) new Function("globalThis", execCode)(scope);
    else runWasmExec(scope);
    if (typeof own.Go !== "function") throw new Error(`wsrpc: ${execURL ?? "wasm_exec.mjs"} did not define Go`);
    const go = new own.Go();
    const { instance: wasm } = await WebAssembly.instantiate(bytes, go.importObject);
    const state = { api: null, WebSocket, pending: new Set(), exited: false };
    const ready = new Promise((resolve) => {
      own.wsrpc = { ready: resolve, dialFailure: (url) => dialFailures.get(url) };
    });
    go.run(wasm).then(() => {
      // Only a bug ends the Go program; settle what it left pending and start anew next time.
      state.exited = true;
      loading = null;
      const err = new RpcError("wsrpc: the Go runtime exited", { kind: "closed" });
      for (const reject of state.pending) reject(err);
      state.pending.clear();
    });
    state.api = await ready;
    return state;
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

/** The error a call rejects with: a peer's error answer (kind "remote") or a local failure. */
export class RpcError extends Error {
  constructor(message, { kind = "error", code, data, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "RpcError";
    this.kind = kind;
    if (code !== undefined) this.code = code;
    if (data !== undefined) this.data = data;
  }
}

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snake = (s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function toError(e) {
  if (e instanceof Error) return e;
  if (e && e.kind === "options") {
    // Name the option as the caller spelt it: "auto_reconect" -> "autoReconect".
    return new TypeError(String(e.message).replace(/"([a-z0-9]+(?:_[a-z0-9]+)+)"/g, (_, n) => `"${camel(n)}"`));
  }
  let data;
  if (e && typeof e.data === "string") {
    try { data = JSON.parse(e.data); } catch { data = e.data; }
  }
  return new RpcError(e && e.message !== undefined ? String(e.message) : String(e), { kind: e && e.kind, code: e && e.code, data });
}

// Settles like p (a Promise from Go), or rejects if the Go program exits first.
function settled(state, p) {
  return new Promise((resolve, reject) => {
    if (state.exited) return reject(new RpcError("wsrpc: the Go runtime exited", { kind: "closed" }));
    state.pending.add(reject);
    p.then(
      (v) => { state.pending.delete(reject); resolve(v); },
      (e) => { state.pending.delete(reject); reject(e); },
    );
  });
}

// A synchronous Go function returns an Error instead of panicking.
function sync(v) {
  if (v instanceof Error) throw v;
  return v;
}

function encodeParams(params, what) {
  if (params === undefined || params === null) return undefined;
  if (typeof params !== "object") throw new TypeError(`wsrpc: ${what}: params must be an object (named) or an array (positional)`);
  return JSON.stringify(params);
}

// Options in milliseconds (the Go configuration takes seconds).
const MS = new Set([
  "defaultResponseTimeout", "idleTimeout", "maxConnectionDuration", "handshakeTimeout", "closeGrace",
  "spinWait", "reconnectDelay", "maxReconnectDelay", "maxReconnectElapsed", "retry.minWait", "retry.maxWait",
  "keepalive.interval",
]);
// Options whose members are data, not option names.
const VERBATIM = new Set(["headers"]);

/** The wsrpc JSON configuration (snake_case, seconds) from camelCase options in milliseconds. */
function toConfig(options, path = "") {
  const out = {};
  for (const [k, v] of Object.entries(options)) {
    const name = path + k;
    if (k.includes("_")) throw new TypeError(`wsrpc: option ${name}: options are camelCase (${path}${camel(k)})`);
    let value = v;
    if (MS.has(name) && typeof v === "number") value = v / 1000;
    else if (v !== null && typeof v === "object" && !Array.isArray(v) && !VERBATIM.has(name)) value = toConfig(v, `${name}.`);
    out[snake(k)] = value;
  }
  return out;
}

const EVENTS = ["connect", "disconnect", "reconnecting", "close"];

/** A connection to a wsrpc (or fastapi-ws-rpc) server; see index.d.ts. */
export class Client {
  #state;
  #go = null;
  #methods;
  #listeners = new Map(EVENTS.map((k) => [k, new Set()]));
  #closed = false;

  /** @internal Use connect(). */
  constructor(state, methods) {
    this.#state = state;
    this.#methods = methods;
  }

  /** @internal */
  _attach(go) { this.#go = go; }

  /** @internal Called by Go for each event; never throws. */
  _emit(kind, info) {
    setTimeout(() => {
      for (const fn of this.#listeners.get(kind) ?? []) {
        try { fn(info); } catch (e) { console.error(`wsrpc: ${kind} listener threw`, e); }
      }
    }, 0);
  }

  /** @internal Runs a registered method for Go; always returns a Promise. */
  async _dispatch(name, paramsJSON) {
    const fn = this.#methods.get(name);
    if (!fn) throw { code: -32601, message: `Method '${name}' not found` };
    const params = paramsJSON === undefined ? undefined : JSON.parse(paramsJSON);
    let result;
    try {
      result = Array.isArray(params) ? await fn(...params) : await fn(params ?? {});
      return result === undefined ? undefined : JSON.stringify(result);
    } catch (e) {
      const err = { message: e && e.message !== undefined ? String(e.message) : String(e), name: (e && e.name) || "Error" };
      if (e && typeof e.code === "number" && Number.isInteger(e.code)) {
        err.code = e.code;
        if (e.data !== undefined) {
          try { err.data = JSON.stringify(e.data); } catch { /* not JSON: sent without data */ }
        }
      }
      throw err;
    }
  }

  #live(what) {
    if (this.#closed || this.#state.exited) throw new RpcError(`wsrpc: ${what}: client is closed`, { kind: "closed" });
    return this.#go;
  }

  /**
   * Calls method on the server. params: an object (named params), an array (positional
   * params) or undefined (none). options.timeout is in milliseconds; options.signal aborts
   * the call, which then rejects with signal.reason.
   */
  async call(method, params, options = {}) {
    const { timeout, signal } = options;
    signal?.throwIfAborted();
    const go = this.#live(`call ${method}`);
    const p = encodeParams(params, `call ${method}`);
    let out;
    try {
      out = await settled(this.#state, go.call(String(method), p, timeout, signal));
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw toError(e);
    }
    return out === "" || out === undefined ? null : JSON.parse(out);
  }

  /** Sends a notification (no answer). Resolves once it is handed to the socket. */
  async notify(method, params) {
    const go = this.#live(`notify ${method}`);
    const p = encodeParams(params, `notify ${method}`);
    try {
      await settled(this.#state, go.notify(String(method), p));
    } catch (e) {
      throw toError(e);
    }
  }

  /** Makes fn callable by the server as name (replacing any method of that name). */
  register(name, fn) {
    if (typeof fn !== "function") throw new TypeError(`wsrpc: register ${name}: not a function`);
    const go = this.#live(`register ${name}`);
    this.#methods.set(String(name), fn);
    sync(go.register(String(name)));
    return this;
  }

  /** Removes a method; returns whether it was registered. */
  unregister(name) {
    const go = this.#live(`unregister ${name}`);
    this.#methods.delete(String(name));
    return sync(go.unregister(String(name)));
  }

  /** Adds an event listener; returns a function that removes it. */
  on(event, fn) {
    const set = this.#listeners.get(event);
    if (!set) throw new TypeError(`wsrpc: unknown event ${event} (one of ${EVENTS.join(", ")})`);
    if (typeof fn !== "function") throw new TypeError(`wsrpc: on ${event}: not a function`);
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Removes an event listener. */
  off(event, fn) { this.#listeners.get(event)?.delete(fn); }

  /** The current connection's channel id, or null while disconnected. */
  get channelId() { return this.#closed || this.#state.exited ? null : sync(this.#go.channelId()); }

  /** Whether close() has been called. */
  get closed() { return this.#closed; }

  /** Closes the connection (status 1000) and stops reconnecting; idempotent. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#state.exited) return;
    try {
      await settled(this.#state, this.#go.close());
    } catch (e) {
      throw toError(e);
    }
  }
}

const NO_WEBSOCKET = "this runtime has no global WebSocket and the optional \"ws\" package is not installed (npm install ws)";

/**
 * Connects to url (ws:// or wss://). options.methods are the methods the server may call;
 * options.on are event listeners attached before connecting; options.signal aborts
 * connecting (connect() then rejects with signal.reason); the remaining members are the
 * wsrpc configuration in camelCase with durations in milliseconds, e.g. autoReconnect,
 * defaultResponseTimeout, keepalive: { interval }.
 */
export async function connect(url, options = {}) {
  const { methods: fns = {}, on = {}, logLevel = "warn", signal, wasm, wasmExec, ...rest } = options;
  signal?.throwIfAborted();
  const config = toConfig(rest);
  const methods = new Map();
  for (const [name, fn] of Object.entries(fns)) {
    if (typeof fn !== "function") throw new TypeError(`wsrpc: methods.${name} is not a function`);
    methods.set(name, fn);
  }
  const state = await loadState({ wasm, wasmExec });
  signal?.throwIfAborted();
  if (!state.WebSocket) throw new RpcError(`wsrpc: connect ${url}: ${NO_WEBSOCKET}`, { kind: "connect" });
  const client = new Client(state, methods);
  for (const [event, fn] of Object.entries(on)) client.on(event, fn);
  let go;
  try {
    go = await settled(state, state.api.connect(
      String(url),
      JSON.stringify(config),
      [...methods.keys()],
      (name, params) => client._dispatch(name, params),
      (kind, info) => client._emit(kind, info),
      logLevel,
      signal,
    ));
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw toError(e);
  }
  client._attach(go);
  if (signal?.aborted) {
    await client.close().catch(() => {});
    throw signal.reason;
  }
  return client;
}

/** The version of the loaded wasm module (loads it). */
export async function version() {
  return (await load()).version;
}

export default { connect, load, version, Client, RpcError };
