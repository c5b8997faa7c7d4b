// The WebSocket that wsrpc.wasm uses: the platform's (browsers, Node >= 22) or, where there
// is none (Node 20), the optional "ws" package, either way behind ConformingWebSocket, a thin
// wrapper that behaves as the WHATWG WebSocket in the ways the Go side depends on:
//
//   - close(code) accepts only 1000 and 3000-4999 and throws InvalidAccessError otherwise.
//     ("ws" accepts e.g. 1011: so Node refuses what a browser refuses, and the Go side,
//     which maps other codes to 4000-4999 itself, behaves alike everywhere.)
//   - A connection that fails before it opens always ends with a close event (code 1006).
//     (Node 22's built-in WebSocket fires only the error event when the connection is
//     refused and stays CONNECTING for good.)
//   - A listener that throws cannot take the process down (Node reports an exception thrown
//     by an EventTarget or "ws" listener as uncaught); it is logged instead.
//
// It also remembers why a connection failed before it opened (the error event's message,
// with Node's error codes in words, e.g. "connection refused"), which the WebSocket API does
// not carry to the close event; wsrpc.wasm asks for it to explain a failed connect.

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;

// Node's system error codes, as Go words them.
const CAUSES = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "temporary failure in name resolution",
  ECONNRESET: "connection reset by peer",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
};

function describe(event) {
  const err = event && event.error;
  const msg = (event && typeof event.message === "string" && event.message) || (err && err.message) || "";
  const words = err && CAUSES[err.code];
  if (words) return msg && !msg.includes(words) ? `${words} (${msg})` : words;
  return msg;
}

/** Why connections to each URL last failed before opening (cleared when one opens). */
export const dialFailures = new Map();

/** The WebSocket class wsrpc.wasm is given: Base (a WHATWG-like WebSocket) made to conform. */
export function conforming(Base) {
  return class ConformingWebSocket {
    static CONNECTING = CONNECTING;
    static OPEN = OPEN;
    static CLOSING = CLOSING;
    static CLOSED = CLOSED;
    #ws;
    #url;
    #listeners = new Map(); // type -> Set of functions
    #done = false; // the close event has been fired
    #opened = false;

    constructor(url, protocols) {
      this.#url = String(url);
      this.#ws = protocols === undefined ? new Base(url) : new Base(url, protocols);
      const ws = this.#ws;
      ws.addEventListener("open", () => {
        this.#opened = true;
        dialFailures.delete(this.#url);
        this.#fire("open", {});
      });
      ws.addEventListener("message", (e) => this.#fire("message", { data: e.data }));
      ws.addEventListener("error", (e) => {
        if (this.#done) return;
        const message = describe(e);
        if (!this.#opened) this.#fail(message);
        else this.#fire("error", { message });
      });
      ws.addEventListener("close", (e) => {
        if (this.#done) return;
        if (!this.#opened && !dialFailures.has(this.#url)) dialFailures.set(this.#url, `closed with code ${e.code} before opening`);
        this.#done = true;
        this.#fire("close", { code: e.code, reason: e.reason, wasClean: e.wasClean });
      });
    }

    // The connection failed before it opened: error then close (1006), once.
    #fail(message) {
      this.#done = true;
      dialFailures.set(this.#url, message ? `${message} (close code 1006)` : "closed with code 1006 before opening");
      this.#fire("error", { message });
      this.#fire("close", { code: 1006, reason: "", wasClean: false });
      try {
        if (typeof this.#ws.terminate === "function") this.#ws.terminate();
        else this.#ws.close();
      } catch {
        // already closing
      }
    }

    #fire(type, props) {
      const event = { type, target: this, ...props };
      for (const fn of [...(this.#listeners.get(type) ?? [])]) {
        try {
          fn.call(this, event);
        } catch (e) {
          console.error(`wsrpc: WebSocket ${type} listener threw`, e);
        }
      }
    }

    addEventListener(type, fn) {
      if (typeof fn !== "function") return;
      if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
      this.#listeners.get(type).add(fn);
    }

    removeEventListener(type, fn) {
      this.#listeners.get(type)?.delete(fn);
    }

    close(code, reason) {
      if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new DOMException(`close code ${code} is not allowed`, "InvalidAccessError");
      }
      if (reason !== undefined && new TextEncoder().encode(String(reason)).length > 123) {
        throw new DOMException("close reason is longer than 123 bytes", "SyntaxError");
      }
      if (this.#done) return;
      if (!this.#opened) {
        // As a browser does: closing before the connection opens fails it.
        queueMicrotask(() => { if (!this.#done) this.#fail("closed before the connection was established"); });
        return;
      }
      this.#ws.close(code, reason);
    }

    send(data) { this.#ws.send(data); }

    get readyState() { return this.#done ? CLOSED : this.#ws.readyState; }
    get bufferedAmount() { return this.#ws.bufferedAmount; }
    get protocol() { return this.#ws.protocol; }
    get extensions() { return this.#ws.extensions; }
    get url() { return this.#ws.url; }
    get binaryType() { return this.#ws.binaryType; }
    set binaryType(v) { this.#ws.binaryType = v; }
  };
}

/**
 * The WebSocket class to use: globalThis.WebSocket, else the "ws" package's, made to conform;
 * undefined when there is neither.
 */
export async function findWebSocket() {
  if (typeof globalThis.WebSocket === "function") return conforming(globalThis.WebSocket);
  try {
    const name = "ws"; // a variable, so that bundlers for browsers leave it alone
    const ws = await import(name);
    const Base = ws.WebSocket ?? ws.default;
    if (typeof Base === "function") return conforming(Base);
  } catch {
    // not installed
  }
  return undefined;
}
