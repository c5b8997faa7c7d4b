// Type-checked (tsc --noEmit) against bindings/js/index.d.ts; never run.
import { connect, RpcError, type Batch, type Client, type ClientEvent, type ConnectOptions, type Stats, type DisconnectEvent } from "wsrpc";

export async function usage(): Promise<string> {
  const options: ConnectOptions = {
    methods: {
      client_echo: ({ text }: { text: string }) => text,
      allow_exit: async ({ delay }: { delay: number }) => { await new Promise((r) => setTimeout(r, delay * 1000)); },
    },
    on: { connect: (e) => console.log(e.channelId), reconnecting: (e) => console.log(e.attempt, e.delay) },
    autoReconnect: true,
    reconnectDelay: 500,
    keepalive: { interval: 10_000, maxConsecutiveFailures: 3 },
    retry: { maxAttempts: 3, minWait: 100 },
    logLevel: "warn",
    signal: AbortSignal.timeout(5000),
  };
  const c: Client = await connect("ws://127.0.0.1:9000/ws", options);
  const s: string = await c.call<string>("concat", { a: "hello", b: " world" });
  await c.call("concat", ["a", "b"], { timeout: 5000, signal: AbortSignal.timeout(1000) });
  await c.notify("log_event", { level: "info" });
  c.register("x", (a: number, b: number) => a + b).register("y", () => undefined);
  const removed: boolean = c.unregister("x");
  const off = c.on("disconnect", (e: DisconnectEvent) => console.log(e.code, e.reason, e.error));
  off();
  const id: string | null = c.channelId;
  const b: Batch = c.batch({ splitUnsupported: true });
  const sum: Promise<number> = b.call<number>("add", [1, 2], { timeout: 500, signal: AbortSignal.timeout(1000) });
  b.notify("log_event", { level: "info" }).notify("log_event", ["x"]);
  const entries: number = b.length;
  await b.send({ signal: AbortSignal.timeout(1000) });
  console.log(await sum, entries);
  const onDisconnect = (e: ClientEvent<"disconnect">) => console.log(e.detail.code, e.detail.reason);
  c.addEventListener("disconnect", onDisconnect, { once: true });
  c.removeEventListener("disconnect", onDisconnect);
  c.addEventListener("reconnecting", { handleEvent: (e) => console.log(e.detail.attempt) });
  const target: EventTarget = c;
  const st: Stats = c.stats();
  const sent: number = st.callsOut + st.notificationsOut + st.bytesOut + st.inFlightOut;
  // @ts-expect-error: the members are camelCase
  console.log(st.calls_out, sent);
  // @ts-expect-error: the detail of "connect" has no attempt
  c.addEventListener("connect", (e: ClientEvent<"connect">) => e.detail.attempt);
  // @ts-expect-error: batch options are camelCase
  c.batch({ split_unsupported: true });
  try {
    await c.call("nope");
  } catch (e) {
    if (e instanceof RpcError && e.kind === "remote") console.log(e.code, e.message, e.data);
    else if (e instanceof DOMException && e.name === "AbortError") console.log("aborted");
  }
  // @ts-expect-error: options are camelCase
  await connect("ws://127.0.0.1:9000/ws", { auto_reconnect: true });
  // @ts-expect-error: "connect_failed" is now "connect"
  const kind: RpcError["kind"] = "connect_failed";
  await c.close();
  if (kind === "batch_unsupported") console.log(target);
  return s + String(removed) + String(id) + kind;
}
