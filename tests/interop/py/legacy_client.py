#!/usr/bin/env python3
"""Interop checklist client built on the REAL legacy library fastapi_websocket_rpc 0.1.29.

    legacy_client.py URL [--timeout S] [--destructive] [--only NAME]

Connects with fastapi_websocket_rpc.WebSocketRpcClient (legacy envelope,
PROTOCOL.md section 14; no subprotocol is offered) and checks, against a server
exposing the legacy RpcUtilityMethods + concat (legacy_server.py, or a Go server
speaking the legacy dialect):

    _ping_ -> "pong"; _get_channel_id_ -> 32-hex; echo; concat (named args);
    concat with ints -> "3" (undeclared return type => str());
    get_process_details (structured result); call_me_back + get_response
    (server calls this client's echo; get_response returns the stored legacy
    response object {"result", "result_type", "call_id"}); server -> client calls
    of client_concat / whoami via call_me_back.
    --destructive adds "unknown method": the legacy protocol has no error replies,
    so the caller must see a timeout (reported by the library as
    RpcChannelClosedException), and the Python legacy server stops serving the
    connection afterwards - run it last.

Client methods exposed to the server: legacy RpcUtilityMethods (_ping_,
_get_channel_id_, echo, get_process_details, call_me_back, get_response) plus
client_concat(a, b) -> str and whoami() -> "python-client".

Output: one JSON object per check {"check", "ok", "detail"}, then
"N passed, M failed"; exit status 1 on failure, 2 if connecting failed.
"""
import argparse
import asyncio
import re

from fastapi_websocket_rpc import RpcUtilityMethods, WebSocketRpcClient

from _checklist import Checklist, run_main

HEX32 = re.compile(r"^[0-9a-f]{32}$")


class LegacyClientMethods(RpcUtilityMethods):
    async def client_concat(self, a: str = "", b: str = "") -> str:
        return a + b

    async def whoami(self) -> str:
        return "python-client"


def dump(obj):
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    if hasattr(obj, "dict"):
        return obj.dict()
    return obj


async def amain(args) -> int:
    cl = Checklist(args.only)
    client = WebSocketRpcClient(args.url, LegacyClientMethods(),
                                default_response_timeout=args.timeout, retry_config=False)
    if not await cl.connect(client, 20, {"url": args.url}):
        return cl.summary(connected=False)
    other = client.other

    async def c_ping():
        r = await other._ping_()
        return r.result == "pong" and r.result_type == "str", dump(r)

    async def c_channel_id():
        r = await other._get_channel_id_()
        return bool(HEX32.match(str(r.result))), dump(r)

    async def c_echo():
        text = "héllo 测试 \"q\""
        r = await other.echo(text=text)
        return r.result == text and r.result_type == "str", dump(r)

    async def c_concat():
        r = await other.concat(a="foo", b="bar")
        return r.result == "foobar", dump(r)

    async def c_concat_ints():
        r = await other.concat(a=1, b=2)
        return r.result == "3" and r.result_type == "str", dump(r)

    async def c_details():
        r = await other.get_process_details()
        res = r.result if isinstance(r.result, dict) else dump(r.result)
        ok = isinstance(res.get("pid"), int) and "cmd" in res and r.result_type == "ProcessDetails"
        return ok, {"result_type": r.result_type, "keys": sorted(res)}

    async def call_back(method_name, cb_args, expected):
        r = await other.call_me_back(method_name=method_name, args=cb_args)
        call_id = r.result
        if not HEX32.match(str(call_id)):
            return False, dump(r)
        await asyncio.sleep(1.0)
        r2 = await other.get_response(call_id=call_id)
        inner = r2.result if isinstance(r2.result, dict) else dump(r2.result)
        ok = inner.get("result") == expected and inner.get("call_id") == call_id
        return ok, {"call_id": call_id, "get_response": dump(r2)}

    async def c_call_me_back():
        return await call_back("echo", {"text": "legacy-recursive"}, "legacy-recursive")

    async def c_call_me_back_concat():
        return await call_back("client_concat", {"a": "x", "b": "y"}, "xy")

    async def c_call_me_back_whoami():
        return await call_back("whoami", {}, "python-client")

    async def c_unknown():
        try:
            r = await other.no_such_method()
            return False, {"unexpected reply": dump(r)}
        except Exception as exc:  # noqa: BLE001 - the expected outcome
            return True, f"no reply as expected: {type(exc).__name__}: {exc}"

    plan = [("ping", c_ping), ("get_channel_id", c_channel_id), ("echo", c_echo),
            ("concat", c_concat), ("concat_ints_coerced", c_concat_ints),
            ("get_process_details", c_details), ("call_me_back_echo", c_call_me_back),
            ("call_me_back_client_concat", c_call_me_back_concat),
            ("call_me_back_whoami", c_call_me_back_whoami)]
    if args.destructive:
        plan.append(("unknown_method_times_out", c_unknown))
    for name, fn in plan:
        await cl.run(name, fn, args.timeout + 10)
    await cl.close(client)
    return cl.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description="legacy fastapi_websocket_rpc interop client")
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--destructive", action="store_true")
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    run_main(amain, args, 180)

if __name__ == "__main__":
    main()
