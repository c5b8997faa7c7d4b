#!/usr/bin/env python3
"""Interop checklist client built on the REAL fastapi_ws_rpc 1.2.0 library.

    client_ws_rpc.py URL [--token T] [--subprotocols a,b] [--expect-debug]
                         [--expect-on-connect] [--timeout S] [--only NAME]

Connects with fastapi_ws_rpc.WebSocketRpcClient to a server exposing the method set
of server_ws_rpc.py (concat, add, fail, slow, big, length, call_client, note,
get_notes + RpcUtilityMethods) and runs a checklist.  The client itself exposes
RpcUtilityMethods (ping, _get_channel_id_, echo, get_process_details,
call_me_back, get_response) plus client_concat(a, b) -> str and
whoami() -> "python-client".

Output: one JSON object per check on stdout,
    {"check": name, "ok": bool, "detail": ...}
then a final line "N passed, M failed"; exit status 1 if anything failed
(2 if the connection could not be made at all).

--subprotocols: comma separated list offered by the client ('' = offer none);
    default = library default (["jsonrpc2.0"]).
--expect-debug: the server runs in debug mode, so fail() must come back as
    -32603 "Internal error: <text>" with data; default expects production
    ("Internal server error", no data).
--expect-on-connect: the server was started with --on-connect-call whoami (or
    client_concat); the check then fails if that call never arrives.  Without the
    flag the check only reports what it saw.

Array (positional) params: the library's call()/other API only produces named
params, so those checks build a JsonRpcRequest with a list `params`, register it
in the channel's own pending-call table (channel._promise_manager) and send it
with channel.send_raw() - i.e. through the library's channel and socket, so the
reply is matched and parsed by the library exactly like any other reply.
"""
import argparse
import asyncio
import re
import time
from typing import Any

from _checklist import Checklist, run_main
from fastapi_ws_rpc import (
    JsonRpcRequest,
    RpcConnectionConfig,
    RpcRetryConfig,
    RpcUtilityMethods,
    WebSocketConnectionConfig,
    WebSocketRpcClient,
    WebSocketRpcClientConfig,
)
from fastapi_ws_rpc.utils import gen_uid

HEX32 = re.compile(r"^[0-9a-f]{32}$")


class ClientMethods(RpcUtilityMethods):
    """Methods the server may call on this client."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list = []  # shared by the per-connection copy (shallow copy)

    async def client_concat(self, a: str, b: str) -> str:
        self.calls.append({"method": "client_concat", "a": a, "b": b})
        return a + b

    async def whoami(self, source: Any = None) -> str:
        self.calls.append({"method": "whoami", "source": source})
        return "python-client"


def dump(resp: Any) -> Any:
    if hasattr(resp, "model_dump"):
        return resp.model_dump(exclude_none=True)
    return resp


async def positional_call(client: WebSocketRpcClient, method: str, params: list, timeout: float):
    """Send a request with ARRAY params through the library's own channel."""
    channel = client.channel
    req = JsonRpcRequest(id=gen_uid(), method=method, params=params)
    promise = channel._promise_manager.create_promise(req)
    await channel.send_raw(req.model_dump(exclude_none=True))
    return await channel._promise_manager.wait_for_response(promise, timeout)


def err_of(resp) -> dict:
    return dump(resp.error) if resp.error is not None else None


async def checks(client: WebSocketRpcClient, args, cl: Checklist) -> None:
    t = args.timeout
    other = client.other

    async def c_subprotocol():
        return True, {"negotiated": client.channel.subprotocol}

    async def c_concat():
        r = await other.concat(a="foo", b="bar")
        return r.result == "foobar" and r.error is None, dump(r)

    async def c_add():
        r1 = await other.add(a=1.5, b=2.25)
        r2 = await other.add(a=0.1, b=0.2)
        ok = r1.result == 3.75 and r2.result == 0.1 + 0.2 and isinstance(r2.result, float)
        return ok, {"1.5+2.25": r1.result, "0.1+0.2": r2.result}

    async def c_ping():
        r = await other.ping()
        return r.result == "pong", dump(r)

    async def c_channel_id():
        r = await other._get_channel_id_()
        return isinstance(r.result, str) and bool(HEX32.match(r.result)), dump(r)

    async def c_echo():
        text = "héllo 测试 \U0001F600 \"quoted\" \\ back"
        r = await other.echo(text=text)
        r2 = await other.echo(text={"nested": [1, None, True, 2.5]})
        ok = r.result == text and r2.result == {"nested": [1, None, True, 2.5]}
        return ok, {"str": r.result, "object": r2.result}

    async def c_unknown():
        r = await other.no_such_method()
        e = err_of(r)
        ok = e is not None and e["code"] == -32601 and e["message"] == "Method 'no_such_method' not found"
        return ok, dump(r)

    async def c_private():
        r = await client.call("_secret_", timeout=t)
        e = err_of(r)
        ok = e is not None and e["code"] == -32601 and \
            e["message"] == "Method '_secret_' not found or not accessible"
        return ok, dump(r)

    async def c_bad_kwarg():
        r = await other.concat(a="x", b="y", z=1)
        e = err_of(r)
        ok = (e is not None and e["code"] == -32602
              and e["message"].startswith("Invalid parameters: ")
              and "unexpected keyword argument 'z'" in e["message"]
              and e.get("data") == {"type": "TypeError", "method": "concat"})
        return ok, dump(r)

    async def c_missing_kwarg():
        r = await other.concat(a="x")
        e = err_of(r)
        ok = e is not None and e["code"] == -32602 and "missing 1 required positional argument: 'b'" in e["message"]
        return ok, dump(r)

    async def c_fail():
        r = await other.fail(message="boom")
        e = err_of(r)
        if args.expect_debug:
            ok = (e is not None and e["code"] == -32603 and e["message"] == "Internal error: boom"
                  and e.get("data") == {"type": "RuntimeError", "method": "fail"})
        else:
            ok = e is not None and e["code"] == -32603 and e["message"] == "Internal server error" \
                and "data" not in e
        return ok, dump(r)

    async def c_notify():
        event = "evt-" + gen_uid()[:8]
        await client.channel.notify("note", {"event": event})
        r = await other.get_notes()  # processed after the notification (in-order server)
        notes = r.result or []
        ok = any(n.get("kind") == "note" and n.get("event") == event for n in notes)
        return ok, {"event": event, "notes": notes}

    async def c_positional():
        r = await positional_call(client, "concat", ["a", "b"], t)
        ok = r.result == "ab" and r.error is None
        return ok, dump(r)

    async def c_positional_coerce():
        # concat is declared -> str, so the server sends str(1 + 2) == "3"
        r = await positional_call(client, "concat", [1, 2], t)
        return r.result == "3", dump(r)

    async def c_positional_too_many():
        r = await positional_call(client, "concat", ["a", "b", "c"], t)
        e = err_of(r)
        ok = (e is not None and e["code"] == -32602 and e["message"] ==
              "Invalid parameters: Too many positional arguments for method 'concat': expected at most 2, got 3"
              and e.get("data") == {"type": "ValueError", "method": "concat"})
        return ok, dump(r)

    async def c_positional_too_few():
        r = await positional_call(client, "concat", ["a"], t)
        e = err_of(r)
        ok = (e is not None and e["code"] == -32602 and e["message"] ==
              "Invalid parameters: Too few positional arguments for method 'concat': expected at least 2, got 1")
        return ok, dump(r)

    async def c_big_echo():
        text = ("0123456789abcdef" * 65536)  # 1 MiB
        t0 = time.monotonic()
        r = await other.echo(text=text)
        ok = r.result == text
        return ok, {"bytes": len(text), "seconds": round(time.monotonic() - t0, 3)}

    async def c_big_result():
        r = await other.big(n=1 << 20)
        r2 = await other.length(text="y" * (1 << 20))
        ok = isinstance(r.result, str) and len(r.result) == 1 << 20 and set(r.result) == {"x"} \
            and r2.result == 1 << 20
        return ok, {"big_len": len(r.result or ""), "length": r2.result}

    async def c_concurrent():
        n = 200
        t0 = time.monotonic()
        rs = await asyncio.gather(*(other.concat(a=f"k{i}-", b=str(i * i)) for i in range(n)))
        bad = [i for i, r in enumerate(rs) if r.result != f"k{i}-{i * i}"]
        return not bad, {"calls": n, "wrong": bad[:10], "seconds": round(time.monotonic() - t0, 3)}

    async def c_slow():
        t0 = time.monotonic()
        r = await other.slow(seconds=0.3)
        el = time.monotonic() - t0
        return r.result == 0.3 and el >= 0.3, {"result": r.result, "elapsed": round(el, 3)}

    async def c_call_me_back():
        text = "recursive-" + gen_uid()[:6]
        r = await other.call_me_back(method_name="echo", args={"text": text})
        call_id = r.result
        if not (isinstance(call_id, str) and HEX32.match(call_id)):
            return False, {"call_me_back": dump(r)}
        await asyncio.sleep(1.0)
        r2 = await other.get_response(call_id=call_id)
        inner = r2.result or {}
        ok = inner.get("id") == call_id and inner.get("result") == text and inner.get("jsonrpc") == "2.0"
        return ok, {"call_id": call_id, "get_response": dump(r2)}

    async def c_call_client():
        r = await other.call_client(method="client_concat", params={"a": "srv-", "b": "ok"})
        call_id = r.result
        entry = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and entry is None:
            notes = (await other.get_notes()).result or []
            entry = next((n for n in notes if n.get("call_id") == call_id), None)
            if entry is None:
                await asyncio.sleep(0.1)
        if entry is None:
            return False, {"call_id": call_id, "error": "no note recorded"}
        fetched = await other.get_response(call_id=call_id)
        ok = (entry.get("response", {}).get("result") == "srv-ok"
              and (fetched.result or {}).get("result") == "srv-ok")
        return ok, {"note": entry, "get_response": dump(fetched)}

    async def c_call_client_whoami():
        r = await other.call_client(method="whoami")
        call_id = r.result
        await asyncio.sleep(0.5)
        fetched = await other.get_response(call_id=call_id)
        return (fetched.result or {}).get("result") == "python-client", dump(fetched)

    async def c_on_connect():
        deadline = time.monotonic() + (3 if args.expect_on_connect else 1)
        seen = None
        while time.monotonic() < deadline:
            seen = next((c for c in client.channel.methods.calls
                         if c.get("source") == "server-on-connect"), None)
            if seen:
                break
            await asyncio.sleep(0.1)
        notes = (await other.get_notes()).result or []
        entry = next((n for n in notes if n.get("kind") == "on_connect"), None)
        if not args.expect_on_connect and seen is None and entry is None:
            return True, "server did not call the client on connect (not expected)"
        ok = seen is not None and entry is not None and "response" in entry
        return ok, {"client_saw": seen, "server_note": entry}

    plan = [
        ("subprotocol", c_subprotocol), ("concat_named", c_concat), ("add_floats", c_add),
        ("ping", c_ping), ("get_channel_id", c_channel_id), ("echo", c_echo),
        ("unknown_method_-32601", c_unknown), ("private_method_-32601", c_private),
        ("unexpected_kwarg_-32602", c_bad_kwarg), ("missing_kwarg_-32602", c_missing_kwarg),
        ("fail_-32603", c_fail), ("notification_then_get_notes", c_notify),
        ("positional_params", c_positional), ("positional_params_str_coercion", c_positional_coerce),
        ("positional_too_many_-32602", c_positional_too_many),
        ("positional_too_few_-32602", c_positional_too_few),
        ("echo_1MiB", c_big_echo), ("big_and_length_1MiB", c_big_result),
        ("concurrent_200_concat", c_concurrent), ("slow", c_slow),
        ("call_me_back_get_response", c_call_me_back), ("call_client_client_concat", c_call_client),
        ("call_client_whoami", c_call_client_whoami), ("on_connect_call", c_on_connect),
    ]
    for name, fn in plan:
        await cl.run(name, fn, timeout=max(t, 15))


async def amain(args) -> int:
    ws_kwargs = {}
    if args.token is not None:
        ws_kwargs["additional_headers"] = [("X-TOKEN", args.token)]
    if args.subprotocols is None:
        ws_conf = WebSocketConnectionConfig()
    else:
        subs = [s for s in args.subprotocols.split(",") if s]
        ws_conf = WebSocketConnectionConfig(subprotocols=subs or None)
    config = WebSocketRpcClientConfig(
        connection=RpcConnectionConfig(default_response_timeout=args.timeout),
        retry=RpcRetryConfig(max_attempts=2, max_wait=1.0),
        websocket=ws_conf,
        websocket_kwargs=ws_kwargs,
    )
    cl = Checklist(args.only)
    client = WebSocketRpcClient(args.url, ClientMethods(), config=config)
    if not await cl.connect(client, 30, {"url": args.url}):
        return cl.summary(connected=False)
    try:
        await checks(client, args, cl)
    finally:
        await cl.close(client)
    return cl.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description="fastapi_ws_rpc interop checklist client")
    parser.add_argument("url")
    parser.add_argument("--token", default=None)
    parser.add_argument("--subprotocols", default=None)
    parser.add_argument("--expect-debug", action="store_true")
    parser.add_argument("--expect-on-connect", action="store_true")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-call response timeout")
    parser.add_argument("--only", default=None, help="run only checks whose name contains this")
    args = parser.parse_args()
    run_main(amain, args, 300)

if __name__ == "__main__":
    main()
