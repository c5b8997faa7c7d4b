// Types for wsrpc.mjs: bidirectional JSON-RPC 2.0 over WebSockets (fastapi-ws-rpc
// compatible), running the Go core compiled to WebAssembly.

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Params of a call: an object (named params), an array (positional params), or none. */
export type Params = { [key: string]: unknown } | unknown[] | undefined | null;

/**
 * A method the server may call. Named params arrive as one object (absent params as {}),
 * positional params as the arguments. It may return a value or a Promise; undefined is sent
 * as null. A thrown Error with an integer `code` is sent as that JSON-RPC error (with
 * `message` and, if set, `data`); any other exception is sent as -32603 "Internal server
 * error" (its text only when the client has `debug: true`).
 */
export type Method = (...args: any[]) => unknown | Promise<unknown>;

/** Why a call failed: the peer's error answer ("remote") or a local failure. */
export type ErrorKind =
  | "remote" // the peer answered with a JSON-RPC error: see code, message, data
  | "timeout" // no answer in time (the method may have run on the peer)
  | "connection_lost" // the connection ended while waiting (the method may have run)
  | "not_connected" // reconnecting and failFast is set; nothing was sent
  | "closed" // the client is closed; nothing was sent
  | "backpressure" // maxPendingRequests or the send queue is full; nothing was sent
  | "message_too_large" // the message exceeds maxMessageSize; nothing was sent
  | "invalid_id"
  | "invalid_argument" // params or a result that are not valid JSON-RPC values; nothing was sent
  | "connect" // connect() could not connect (the message says why: connection refused, no such host, close code 1006, ...)
  | "aborted" // the call was cancelled inside Go (an aborted signal rejects with signal.reason instead)
  | "batch_unsupported" // the peer answered a batch with one error object (the Python libraries): none of it ran
  | "error";

/** The error calls reject with. */
export class RpcError extends Error {
  constructor(message: string, init?: { kind?: ErrorKind; code?: number; data?: unknown; cause?: unknown });
  readonly name: "RpcError";
  readonly kind: ErrorKind;
  /** JSON-RPC error code, set when kind is "remote" (e.g. -32601 method not found, -32602 invalid params). */
  readonly code?: number;
  /** The error's data member, decoded, when the peer sent one. */
  readonly data?: unknown;
}

/** Event payloads. */
export interface ConnectEvent {
  channelId: string;
}
export interface DisconnectEvent {
  channelId: string;
  /** Close code the peer sent, or -1. */
  code: number;
  reason?: string;
  error?: string;
}
export interface ReconnectingEvent {
  /** 1 for the first attempt of this outage. */
  attempt: number;
  /** Milliseconds until the attempt. */
  delay: number;
  error?: string;
}
export interface CloseEvent {
  /** Why the client closed for good, unless close() closed it. */
  error?: string;
}
export interface Events {
  /** A connection is ready (the first and every reconnect). */
  connect: ConnectEvent;
  /** A connection ended. */
  disconnect: DisconnectEvent;
  /** A reconnect attempt is scheduled. */
  reconnecting: ReconnectingEvent;
  /** The client closed for good (close(), or reconnecting gave up). */
  close: CloseEvent;
}
export type EventName = keyof Events;

/**
 * The wsrpc configuration (the JSON form shared with the C binding, in JavaScript's
 * spelling): names are camelCase, durations are milliseconds. A misspelt member, or a
 * snake_case one, is a TypeError.
 */
export interface Config {
  maxMessageSize?: number;
  maxPendingRequests?: number;
  /** 0 = unlimited. */
  maxSendQueueSize?: number;
  /** 0 = unlimited. */
  maxConcurrentRequests?: number;
  sequential?: boolean;
  /** Run a connection's notifications one at a time in arrival order (requests stay concurrent). */
  orderedNotifications?: boolean;
  /** Milliseconds a call waits for its answer unless it says otherwise. */
  defaultResponseTimeout?: number;
  /** Milliseconds. */
  idleTimeout?: number;
  /** Milliseconds. */
  maxConnectionDuration?: number;
  /** Milliseconds. */
  handshakeTimeout?: number;
  /** Milliseconds. */
  closeGrace?: number;
  /** Milliseconds a lone call busy-waits for its answer (Go Config.SpinWait); no effect here. */
  spinWait?: number;
  /** Disclose exception texts in -32603 answers. */
  debug?: boolean;
  /** null or [] offers no subprotocol; default ["jsonrpc2.0"]. */
  subprotocols?: string[] | null;
  binary?: boolean;
  /** Browsers cannot send custom handshake headers; ignored. */
  headers?: Record<string, string>;
  readinessCheck?: boolean;
  failFast?: boolean;
  /** Retrying the first connection; minWait and maxWait in milliseconds. */
  retry?: { enabled?: boolean; maxAttempts?: number; minWait?: number; maxWait?: number; jitter?: boolean };
  autoReconnect?: boolean;
  /** Milliseconds. */
  reconnectDelay?: number;
  /** Milliseconds. */
  maxReconnectDelay?: number;
  /** -1 = unlimited. */
  maxReconnectAttempts?: number;
  /** Milliseconds. */
  maxReconnectElapsed?: number;
  /** Keepalive uses the JSON-RPC "ping" method (browsers have no protocol pings); interval in milliseconds. */
  keepalive?: { interval?: number; maxConsecutiveFailures?: number; useProtocolPing?: boolean };
  syncChannelId?: boolean;
  originPatterns?: string[];
}

export interface LoadOptions {
  /**
   * URL of wsrpc.wasm (default: next to wsrpc.mjs, as new URL("./wsrpc.wasm", import.meta.url)).
   * With a bundler that does not copy such assets (esbuild), import "wsrpc/wsrpc.wasm" as a
   * file URL and pass it here.
   */
  wasm?: string | URL;
  /** URL of wasm_exec.js from the Go toolchain that built the .wasm (default: the copy bundled as wasm_exec.mjs). */
  wasmExec?: string | URL;
}

export interface ConnectOptions extends Config, LoadOptions {
  /** Methods the server may call. */
  methods?: Record<string, Method>;
  /** Listeners attached before connecting (so they see the first "connect"). */
  on?: { [E in EventName]?: (event: Events[E]) => void };
  /** Go-side log level on the console; default "warn". */
  logLevel?: "debug" | "info" | "warn" | "error" | "silent";
  /** Aborting stops connecting: connect() rejects with signal.reason. */
  signal?: AbortSignal;
}

export interface CallOptions {
  /** Milliseconds to wait for the answer (default: defaultResponseTimeout, else none). */
  timeout?: number;
  /** Aborting rejects the call with signal.reason (an "AbortError" DOMException by default). */
  signal?: AbortSignal;
}

export interface BatchOptions {
  /**
   * Against a peer that does not take batches (it answers one with a single error object,
   * as the Python libraries do), send the entries again one by one (same ids) instead of
   * rejecting every call with kind "batch_unsupported"; later batches on that connection
   * then go out as single messages straight away.
   */
  splitUnsupported?: boolean;
}

export interface BatchSendOptions {
  /**
   * Aborts the whole batch: before it is sent nothing goes and every call rejects with
   * signal.reason; afterwards the calls still waiting are cancelled (on a wsrpc peer too).
   */
  signal?: AbortSignal;
}

/**
 * A JSON-RPC 2.0 batch (client.batch()): calls and notifications sent in one message, which
 * a wsrpc peer runs concurrently and answers in one message. Add entries, then send() once.
 */
export class Batch {
  private constructor();
  /**
   * Adds a call; the Promise settles with its own result or error once the batch is sent
   * (timeout and signal apply to this call alone). It is marked handled: a failed entry
   * that nobody awaits raises no unhandled rejection. Throws a TypeError for bad params and
   * an RpcError "invalid_argument" once the batch has been sent.
   */
  call<T = any>(method: string, params?: Params, options?: CallOptions): Promise<T>;
  /** Adds a notification. */
  notify(method: string, params?: Params): this;
  /** The number of entries. */
  readonly length: number;
  /**
   * Sends the batch in one message; resolves once it is written. Rejects (and so does every
   * call of it) when it cannot be sent: "invalid_argument" for an empty batch or a second
   * send, "closed", "batch_unsupported" once the peer refused a batch, signal.reason.
   */
  send(options?: BatchSendOptions): Promise<void>;
}

/**
 * A client's counters (client.stats()), since connect() over all its connections: the Go
 * core's Stats. Batch members count one by one in calls and notifications; a batch is one
 * message. The library's own calls (readiness and keepalive pings) count too.
 */
export interface Stats {
  /** Connections open now (0 or 1). */
  connections: number;
  /** Connections established. */
  connectionsTotal: number;
  /** Connections after the first. */
  reconnects: number;
  /** Requests received (the server calling the client's methods). */
  callsIn: number;
  /** Requests sent. */
  callsOut: number;
  notificationsIn: number;
  notificationsOut: number;
  /** Error responses received. */
  errorsIn: number;
  /** Error responses sent. */
  errorsOut: number;
  /** Requests refused by backpressure (-32000 answered). */
  rejected: number;
  /** Incoming requests being handled now. */
  inFlightIn: number;
  /** Outgoing calls awaiting their answer now. */
  inFlightOut: number;
  messagesIn: number;
  messagesOut: number;
  /** Message payload bytes. */
  bytesIn: number;
  bytesOut: number;
}

/** The events of a Client: CustomEvents whose detail is the event's information. */
export type ClientEvent<E extends EventName> = CustomEvent<Events[E]>;

/**
 * A connection. It is an EventTarget: "connect", "disconnect", "reconnecting" and "close"
 * are dispatched as CustomEvents (detail: ConnectEvent, ...); on/off are the same events with
 * the detail handed to the listener. A listener that throws is logged, never fatal.
 */
export class Client extends EventTarget {
  private constructor();
  /** Calls method on the server and resolves with its result. */
  call<T = any>(method: string, params?: Params, options?: CallOptions): Promise<T>;
  /** Sends a notification; resolves once it is handed to the socket. */
  notify(method: string, params?: Params): Promise<void>;
  /** Starts a batch of calls and notifications sent in one message. */
  batch(options?: BatchOptions): Batch;
  /** Makes fn callable by the server as name (replacing any method of that name). */
  register(name: string, fn: Method): this;
  /** Removes a method; returns whether it was registered. */
  unregister(name: string): boolean;
  /** Adds a listener of the event's detail; returns a function that removes it. */
  on<E extends EventName>(event: E, listener: (event: Events[E]) => void): () => void;
  /** Removes a listener added with on(). */
  off<E extends EventName>(event: E, listener: (event: Events[E]) => void): void;
  addEventListener<E extends EventName>(
    type: E,
    listener: ((event: ClientEvent<E>) => void) | { handleEvent(event: ClientEvent<E>): void } | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: ((event: Event) => void) | { handleEvent(event: Event): void } | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<E extends EventName>(
    type: E,
    listener: ((event: ClientEvent<E>) => void) | { handleEvent(event: ClientEvent<E>): void } | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: ((event: Event) => void) | { handleEvent(event: Event): void } | null, options?: boolean | EventListenerOptions): void;
  /** The current connection's channel id, or null while disconnected. */
  readonly channelId: string | null;
  /** Whether close() has been called. */
  readonly closed: boolean;
  /**
   * A snapshot of the client's counters (a new plain object each time); after close() has
   * resolved, the final ones. Throws an RpcError "closed" while close() is in progress.
   */
  stats(): Stats;
  /** Closes the connection (status 1000) and stops reconnecting; idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to a wsrpc or fastapi-ws-rpc server (ws:// or wss:// URL) on the platform's
 * WebSocket, else (Node 20) the optional "ws" package's. Rejects with an RpcError of kind
 * "connect" when it cannot connect (or there is no WebSocket), a TypeError for bad options,
 * or signal.reason when aborted.
 */
export function connect(url: string | URL, options?: ConnectOptions): Promise<Client>;

/** Loads and starts the wasm module (connect() does this on first use). */
export function load(options?: LoadOptions): Promise<unknown>;

/** Version of the wasm module. */
export function version(): Promise<string>;

declare const _default: {
  connect: typeof connect;
  load: typeof load;
  version: typeof version;
  Client: typeof Client;
  Batch: typeof Batch;
  RpcError: typeof RpcError;
};
export default _default;
