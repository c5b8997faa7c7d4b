// Type-checked (tsc --noEmit) against bindings/js/index.d.ts; never run.
import { connect, RpcError, type Client, type ConnectOptions, type DisconnectEvent } from "wsrpc";

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
  return s + String(removed) + String(id) + kind;
}
