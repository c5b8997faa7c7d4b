// wsrpc for browsers and Node: bidirectional JSON-RPC 2.0 over WebSockets, wire-compatible
// with fastapi-ws-rpc. The protocol runs in Go (wsrpc.wasm, the same core as the Go
// library); this module only loads it and translates between JavaScript and Go.
//
//   import { connect } from "./wsrpc.mjs";
//   const c = await connect("ws://127.0.0.1:9000/ws", { methods: { client_echo: ({ text }) => text } });
//   await c.call("concat", { a: "hello", b: " world" });   // "hello world"
//
// wsrpc.wasm and wasm_exec.js (from the Go toolchain that built the .wasm) are looked up
// next to this file unless load() is told otherwise. Node needs a global WebSocket (Node 22
// has one; on Node 20 set globalThis.WebSocket from the "ws" package).

const here = (name) => new URL(name, import.meta.url);
const isNode = typeof process === "object" && process.versions != null && process.versions.node != null && typeof window === "undefined";

let loading = null;

async function readBytes(url) {
  if (isNode && url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`wsrpc: fetching ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function loadWasmExec(url) {
  if (typeof globalThis.Go === "function") return;
  if (isNode && url.protocol === "file:") {
    // wasm_exec.js is a classic script: run it in this realm.
    const { readFile } = await import("node:fs/promises");
    const code = await readFile(url, "utf8");
    new Function(code)();
  } else if (typeof document !== "undefined") {
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = String(url);
      s.onload = resolve;
      s.onerror = () => reject(new Error(`wsrpc: cannot load ${url}`));
      document.head.appendChild(s);
    });
  } else {
    new Function(await (await fetch(url)).text())();
  }
  if (typeof globalThis.Go !== "function") throw new Error(`wsrpc: ${url} did not define Go`);
}

/**
 * Loads and starts the wasm module once (connect() calls it). Options: wasm and wasmExec
 * are URLs (or paths relative to this module) of wsrpc.wasm and wasm_exec.js.
 */
export function load(options = {}) {
  if (loading) return loading;
  loading = (async () => {
    const wasmURL = options.wasm ? new URL(options.wasm, import.meta.url) : here("./wsrpc.wasm");
    const execURL = options.wasmExec ? new URL(options.wasmExec, import.meta.url) : here("./wasm_exec.js");
    await loadWasmExec(execURL);
    const go = new globalThis.Go();
    let instance;
    if (!(isNode && wasmURL.protocol === "file:") && typeof WebAssembly.instantiateStreaming === "function") {
      try {
        ({ instance } = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject));
      } catch (e) {
        // e.g. a server that does not send application/wasm: fall back to bytes.
        ({ instance } = await WebAssembly.instantiate(await readBytes(wasmURL), go.importObject));
      }
    } else {
      ({ instance } = await WebAssembly.instantiate(await readBytes(wasmURL), go.importObject));
    }
    const ready = new Promise((resolve) => { globalThis.__wsrpc_ready = resolve; });
    go.run(instance).then(() => { loading = null; delete globalThis.__wsrpc; });
    if (!globalThis.__wsrpc) await ready;
    delete globalThis.__wsrpc_ready;
    return globalThis.__wsrpc;
  })();
  loading.catch(() => { loading = null; });
  return loading;
}

/** The error a call rejects with: a peer's error answer (kind "remote") or a local failure. */
export class RpcError extends Error {
  constructor(message, { kind = "error", code, data } = {}) {
    super(message);
    this.name = "RpcError";
    this.kind = kind;
    if (code !== undefined) this.code = code;
    if (data !== undefined) this.data = data;
  }
}

function toError(e) {
  if (e instanceof Error) return e;
  if (e && e.kind === "options") return new TypeError(e.message);
  let data;
  if (e && typeof e.data === "string") {
    try { data = JSON.parse(e.data); } catch { data = e.data; }
  }
  return new RpcError(e && e.message !== undefined ? String(e.message) : String(e), { kind: e && e.kind, code: e && e.code, data });
}

function encodeParams(params, what) {
  if (params === undefined || params === null) return undefined;
  if (typeof params !== "object") throw new TypeError(`wsrpc: ${what}: params must be an object (named) or an array (positional)`);
  return JSON.stringify(params);
}

const EVENTS = ["connect", "disconnect", "reconnecting", "close"];
const JS_OPTIONS = ["methods", "on", "logLevel", "wasm", "wasmExec"];

/** A connection to a wsrpc (or fastapi-ws-rpc) server; see index.d.ts. */
export class Client {
  #go = null;
  #methods;
  #listeners = new Map(EVENTS.map((k) => [k, new Set()]));
  #closed = false;

  /** @internal Use connect(). */
  constructor(methods) { this.#methods = methods; }

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
    } catch (e) {
      const err = { message: e && e.message !== undefined ? String(e.message) : String(e), name: (e && e.name) || "Error" };
      if (e && typeof e.code === "number" && Number.isInteger(e.code)) {
        err.code = e.code;
        if (e.data !== undefined) err.data = JSON.stringify(e.data);
      }
      throw err;
    }
    return result === undefined ? undefined : JSON.stringify(result);
  }

  #live(what) {
    if (this.#closed) throw new RpcError(`wsrpc: ${what}: client is closed`, { kind: "closed" });
    return this.#go;
  }

  /**
   * Calls method on the server. params: an object (named params), an array (positional
   * params) or undefined (none). options.timeout is in seconds; options.signal aborts.
   */
  async call(method, params, options = {}) {
    const go = this.#live(`call ${method}`);
    const p = encodeParams(params, `call ${method}`);
    let out;
    try {
      out = await go.call(String(method), p, options.timeout, options.signal);
    } catch (e) {
      throw toError(e);
    }
    return out === "" || out === undefined ? null : JSON.parse(out);
  }

  /** Sends a notification (no answer). Resolves once it is handed to the socket. */
  async notify(method, params) {
    const go = this.#live(`notify ${method}`);
    const p = encodeParams(params, `notify ${method}`);
    try {
      await go.notify(String(method), p);
    } catch (e) {
      throw toError(e);
    }
  }

  /** Makes fn callable by the server as name (replacing any method of that name). */
  register(name, fn) {
    if (typeof fn !== "function") throw new TypeError(`wsrpc: register ${name}: not a function`);
    const go = this.#live(`register ${name}`);
    this.#methods.set(String(name), fn);
    go.register(String(name));
    return this;
  }

  /** Removes a method; returns whether it was registered. */
  unregister(name) {
    const go = this.#live(`unregister ${name}`);
    this.#methods.delete(String(name));
    return go.unregister(String(name));
  }

  /** Adds an event listener; returns a function that removes it. */
  on(event, fn) {
    const set = this.#listeners.get(event);
    if (!set) throw new TypeError(`wsrpc: unknown event ${event} (one of ${EVENTS.join(", ")})`);
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Removes an event listener. */
  off(event, fn) { this.#listeners.get(event)?.delete(fn); }

  /** The current connection's channel id, or null while disconnected. */
  get channelId() { return this.#closed ? null : this.#go.channelId(); }

  /** Whether close() has been called. */
  get closed() { return this.#closed; }

  /** Closes the connection (status 1000) and stops reconnecting; idempotent. */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#go.close();
    } catch (e) {
      throw toError(e);
    }
  }
}

/**
 * Connects to url (ws:// or wss://). options.methods are the methods the server may call;
 * options.on are event listeners attached before connecting; the remaining members are the
 * wsrpc JSON configuration (snake_case, durations in seconds), e.g. auto_reconnect,
 * default_response_timeout, keepalive: { interval }.
 */
export async function connect(url, options = {}) {
  const config = {};
  for (const [k, v] of Object.entries(options)) if (!JS_OPTIONS.includes(k)) config[k] = v;
  const api = await load({ wasm: options.wasm, wasmExec: options.wasmExec });
  const methods = new Map();
  for (const [name, fn] of Object.entries(options.methods ?? {})) {
    if (typeof fn !== "function") throw new TypeError(`wsrpc: methods.${name} is not a function`);
    methods.set(name, fn);
  }
  const client = new Client(methods);
  for (const [event, fn] of Object.entries(options.on ?? {})) client.on(event, fn);
  let go;
  try {
    go = await api.connect(
      String(url),
      JSON.stringify(config),
      [...methods.keys()],
      (name, params) => client._dispatch(name, params),
      (kind, info) => client._emit(kind, info),
      options.logLevel ?? "warn",
    );
  } catch (e) {
    throw toError(e);
  }
  client._attach(go);
  return client;
}

/** The version of the loaded wasm module (loads it). */
export async function version() {
  return (await load()).version;
}

export default { connect, load, version, Client, RpcError };
