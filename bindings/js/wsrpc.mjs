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

/** Client.stats(): the Go Stats' JSON with camelCase members. */
function statsObject(json) {
  return Object.fromEntries(Object.entries(JSON.parse(json)).map(([k, v]) => [camel(k), v]));
}

const EVENTS = ["connect", "disconnect", "reconnecting", "close"];

// A listener (a function or an object with handleEvent) that cannot throw out of an event:
// Node reports an exception thrown by an EventTarget listener as uncaught, which would end
// the process; it is logged instead.
function guarded(type, listener) {
  return function (event) {
    try {
      if (typeof listener === "function") listener.call(this, event);
      else listener.handleEvent(event);
    } catch (e) {
      console.error(`wsrpc: ${type} listener threw`, e);
    }
  };
}

/**
 * A connection to a wsrpc (or fastapi-ws-rpc) server; see index.d.ts. It is an EventTarget:
 * the events "connect", "disconnect", "reconnecting" and "close" are CustomEvents whose
 * detail is the event's information; on(event, fn) and off(event, fn) hand fn the detail.
 */
export class Client extends EventTarget {
  #state;
  #go = null;
  #methods;
  #guards = new Map(); // `${type} ${capture}` -> Map(listener -> guarded listener)
  #onListeners = new Map(EVENTS.map((k) => [k, new Map()])); // event -> Map(fn -> listener)
  #closed = false;
  #final = null; // the counters at close()

  /** @internal Use connect(). */
  constructor(state, methods) {
    super();
    this.#state = state;
    this.#methods = methods;
  }

  /** @internal */
  _attach(go) { this.#go = go; }

  /** @internal Called by Go for each event; never throws. */
  _emit(kind, info) {
    setTimeout(() => this.dispatchEvent(new CustomEvent(kind, { detail: info })), 0);
  }

  /** EventTarget's addEventListener; a listener that throws is logged, never fatal. */
  addEventListener(type, listener, options) {
    if (listener == null) return;
    if (typeof listener !== "function" && typeof listener?.handleEvent !== "function") {
      throw new TypeError(`wsrpc: addEventListener ${type}: not a function or an object with handleEvent`);
    }
    const key = `${type} ${typeof options === "boolean" ? options : Boolean(options?.capture)}`;
    let guards = this.#guards.get(key);
    if (!guards) this.#guards.set(key, (guards = new Map()));
    let g = guards.get(listener);
    if (!g) {
      guards.set(listener, (g = guarded(type, listener)));
      // Forget the guard when EventTarget drops the listener by itself.
      const forget = () => { if (guards.get(listener) === g) guards.delete(listener); };
      if (options?.once) {
        const run = g;
        g = function (event) { forget(); run.call(this, event); };
        guards.set(listener, g);
      }
      if (options?.signal?.aborted) forget();
      else options?.signal?.addEventListener?.("abort", forget, { once: true });
    }
    super.addEventListener(type, g, options);
  }

  /** EventTarget's removeEventListener. */
  removeEventListener(type, listener, options) {
    const key = `${type} ${typeof options === "boolean" ? options : Boolean(options?.capture)}`;
    const guards = this.#guards.get(key);
    const g = guards?.get(listener);
    if (g) guards.delete(listener);
    // Without a guard, listener may be one itself: Node's EventTarget removes a listener
    // added with { signal } or { once } through this method, handing it what it was given.
    super.removeEventListener(type, g ?? listener, options);
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

  /**
   * Adds a listener of event (one of EVENTS) that receives the event's detail; returns a
   * function that removes it. The same as addEventListener(event, (e) => fn(e.detail)).
   */
  on(event, fn) {
    const fns = this.#onListeners.get(event);
    if (!fns) throw new TypeError(`wsrpc: unknown event ${event} (one of ${EVENTS.join(", ")})`);
    if (typeof fn !== "function") throw new TypeError(`wsrpc: on ${event}: not a function`);
    if (!fns.has(fn)) {
      const listener = (e) => fn(e.detail);
      fns.set(fn, listener);
      this.addEventListener(event, listener);
    }
    return () => this.off(event, fn);
  }

  /** Removes a listener added with on(). */
  off(event, fn) {
    const fns = this.#onListeners.get(event);
    const listener = fns?.get(fn);
    if (!listener) return;
    fns.delete(fn);
    this.removeEventListener(event, listener);
  }

  /**
   * Starts a batch (JSON-RPC 2.0 §6): calls and notifications sent in one message with
   * send(). options.splitUnsupported: against a peer that does not take batches (the Python
   * libraries), send the entries one by one instead of failing them with kind
   * "batch_unsupported".
   */
  batch(options = {}) {
    const { splitUnsupported = false, ...rest } = options;
    const unknown = Object.keys(rest);
    if (unknown.length) throw new TypeError(`wsrpc: batch: unknown option "${unknown[0]}" (splitUnsupported)`);
    return new Batch(this, Boolean(splitUnsupported));
  }

  /** @internal Sends a batch's entries (see Batch.send). */
  _sendBatch(entries, split, signal) {
    return sync(this.#live("batch").batch(entries, split, signal)).map((p) => p && settled(this.#state, p));
  }

  /** The current connection's channel id, or null while disconnected. */
  get channelId() { return this.#closed || this.#state.exited ? null : sync(this.#go.channelId()); }

  /** Whether close() has been called. */
  get closed() { return this.#closed; }

  /**
   * The client's counters since connect() (wsrpc.Client.Stats, members in camelCase), a
   * plain object; after close(), the final ones.
   */
  stats() {
    if (this.#final) return { ...this.#final };
    if (this.#closed) throw new RpcError("wsrpc: stats: client is closing", { kind: "closed" });
    return statsObject(sync(this.#live("stats").stats()));
  }

  /** Closes the connection (status 1000) and stops reconnecting; idempotent. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#state.exited) return;
    try {
      this.#final = statsObject(await settled(this.#state, this.#go.close()));
    } catch (e) {
      throw toError(e);
    }
  }
}

function checkSignal(signal, what) {
  if (signal !== undefined && !(typeof signal?.aborted === "boolean" && typeof signal.addEventListener === "function")) {
    throw new TypeError(`wsrpc: ${what}: signal is not an AbortSignal`);
  }
}

/**
 * A JSON-RPC 2.0 batch (client.batch()): add calls and notifications, then send() them in one
 * message. Each call's Promise settles with its own answer once the batch is sent.
 */
export class Batch {
  #client;
  #split;
  #entries = []; // [method, paramsJSON, isCall, timeout, signal]
  #settle = []; // per entry: { resolve, reject, signal } for calls, null for notifications
  #sent = false;

  /** @internal Use client.batch(). */
  constructor(client, split) {
    this.#client = client;
    this.#split = split;
  }

  #add(what, method, params) {
    if (this.#sent) throw new RpcError(`wsrpc: batch ${what} ${method}: the batch has been sent`, { kind: "invalid_argument" });
    return encodeParams(params, `batch ${what} ${method}`);
  }

  /**
   * Adds a call; returns a Promise of its result, which settles once the batch is sent.
   * options.timeout (milliseconds) and options.signal apply to this call alone; an aborted
   * signal rejects it with signal.reason and cancels it on a wsrpc peer. A failed entry never
   * raises an unhandled rejection (the Promise is marked handled; await it to see the error).
   */
  call(method, params, options = {}) {
    const { timeout, signal } = options;
    const p = this.#add("call", method, params);
    checkSignal(signal, `batch call ${method}`);
    const result = new Promise((resolve, reject) => {
      this.#settle.push({ resolve, reject, signal });
    });
    this.#entries.push([String(method), p, true, timeout, signal]);
    result.catch(() => {});
    return result;
  }

  /** Adds a notification; returns the batch. */
  notify(method, params) {
    const p = this.#add("notify", method, params);
    this.#entries.push([String(method), p, false, undefined, undefined]);
    this.#settle.push(null);
    return this;
  }

  /** The number of entries. */
  get length() { return this.#entries.length; }

  /**
   * Sends the batch in one message; resolves once it is written. options.signal aborts the
   * whole batch: before it is sent nothing goes; afterwards the calls still waiting are
   * cancelled (on a wsrpc peer too). Every call rejects with send's error when it fails.
   */
  async send(options = {}) {
    const { signal } = options;
    if (this.#sent) throw new RpcError("wsrpc: batch: already sent", { kind: "invalid_argument" });
    this.#sent = true;
    const settle = this.#settle;
    const fail = (e, entry) => {
      if (entry?.signal?.aborted) return entry.signal.reason;
      if (signal?.aborted) return signal.reason;
      return toError(e);
    };
    let promises;
    try {
      checkSignal(signal, "batch send");
      signal?.throwIfAborted();
      promises = this.#client._sendBatch(this.#entries, this.#split, signal);
    } catch (e) {
      const err = signal?.aborted ? signal.reason : e instanceof Error ? e : toError(e);
      for (const s of settle) s?.reject(err);
      throw err;
    }
    promises.slice(1).forEach((p, i) => {
      const s = settle[i];
      if (!s) return;
      p.then(
        (out) => s.resolve(out === "" || out === undefined ? null : JSON.parse(out)),
        (e) => s.reject(fail(e, s)),
      );
    });
    try {
      await promises[0];
    } catch (e) {
      throw fail(e);
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

export default { connect, load, version, Client, Batch, RpcError };
