#!/usr/bin/env python3
"""Capture REAL wire frames from the Python servers into frames/*.json.

    capture_frames.py [--out DIR] [--only NAME_SUBSTRING]

Starts server_ws_rpc.py (default, --debug, --sync-channel-id, --on-connect-call)
and legacy_server.py on free loopback ports, talks to them with a plain
`websockets` client (no RPC library on this side, so every byte sent is exactly
what is written here), and stores one file per case:

    {"name": ..., "description": ..., "server": "<server flags>",
     "subprotocol": <negotiated or null>,
     "send": <JSON value sent, or the raw text when it is not valid JSON>,
     "send_raw": "<exact text frame sent>",
     "recv": [<JSON value of each frame received>],
     "recv_raw": ["<exact text of each frame received>"],
     "closed": <close code seen by the client, or null if the socket stayed open>,
     "close_reason": ...,
     "transcript": [...]          # only for multi-step flows
    }

Frames are collected until 0.7 s of silence (or the close).  Huge payloads are
summarised instead of stored.  All servers are killed on exit.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time

import websockets
from websockets.asyncio.client import connect

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
QUIET = 0.7
BIG_LIMIT = 4096  # frames longer than this are summarised in the golden files

UUID_RE = re.compile(r"^[0-9a-f]{32}$")


class Server:
    def __init__(self, script: str, *flags: str) -> None:
        self.flags = " ".join(flags)
        self.script = script
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, script), "--port", "0", "--lifetime", "300", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE,
        )
        deadline = time.time() + 20
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("LISTENING"):
                break
        else:
            self.stop()
            raise RuntimeError(f"{script} did not start")
        self.port = int(line.split()[1])

    def url(self, path: str = "/ws") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def summarise(text: str):
    if len(text) <= BIG_LIMIT:
        try:
            return json.loads(text), text
        except ValueError:
            return text, text
    head = text[:200]
    summary = {"_summary": True, "bytes": len(text.encode()), "head": head, "tail": text[-80:]}
    return summary, summary


async def collect(ws, quiet: float = QUIET):
    """Read frames until `quiet` seconds pass without one, or the socket closes."""
    frames = []
    closed = None
    reason = None
    while True:
        try:
            msg = await asyncio.wait_for(ws.recv(), quiet)
        except asyncio.TimeoutError:
            break
        except websockets.ConnectionClosed:
            closed = ws.close_code
            reason = ws.close_reason
            break
        if isinstance(msg, bytes):
            msg = "BINARY:" + msg.decode("utf-8", "replace")
        frames.append(msg)
    return frames, closed, reason


async def run_case(server: Server, name: str, description: str, send, *, raw: str | None = None,
                   binary: bool = False, path: str = "/ws", quiet: float = QUIET,
                   subprotocols=("jsonrpc2.0",), pre_collect: bool = False) -> dict:
    text = raw if raw is not None else json.dumps(send)
    result = {"name": name, "description": description,
              "server": f"{server.script} {server.flags}".strip()}
    async with connect(server.url(path), subprotocols=list(subprotocols) or None,
                       compression=None, max_size=None, open_timeout=10) as ws:
        result["subprotocol"] = ws.subprotocol
        if pre_collect:
            early, _, _ = await collect(ws, quiet)
            result["recv_before_send"] = [summarise(f)[0] for f in early]
        if send is not None or raw is not None:
            await ws.send(text.encode() if binary else text)
        frames, closed, reason = await collect(ws, quiet)
    s_val, s_raw = summarise(text)
    result["send"] = s_val if raw is None or len(text) > BIG_LIMIT else _maybe_json(text)
    result["send_raw"] = s_raw if not binary else {"binary_frame": s_raw}
    result["recv"] = [summarise(f)[0] for f in frames]
    result["recv_raw"] = [summarise(f)[1] for f in frames]
    result["closed"] = closed
    result["close_reason"] = reason or None
    return result


def _maybe_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def req(method, params=None, id_="req-1", **extra):
    m = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        m["params"] = params
    m.update(extra)
    return m


# name, description, message (or raw text via dict {"raw": ...})
JSONRPC_CASES = [
    ("request_named", "request with named params and its success reply", req("concat", {"a": "foo", "b": "bar"})),
    ("request_positional", "array (positional) params bound to concat(a, b)", req("concat", ["foo", "bar"], "req-pos")),
    ("request_int_id", "integer id is echoed as an integer", req("concat", {"a": "x", "b": "y"}, 7)),
    ("request_big_int_id", "integer id beyond 2^53 echoed exactly", req("ping", None, 12345678901234567890123)),
    ("request_float_zero_fraction_id", "id 7.0 is coerced to integer 7", {"raw": '{"jsonrpc": "2.0", "id": 7.0, "method": "ping"}'}),
    ("request_float_fraction_id", "id 7.5: reply cannot be built -> no reply, session torn down", {"raw": '{"jsonrpc": "2.0", "id": 7.5, "method": "ping"}'}),
    ("request_bool_id", "boolean id", req("ping", None, True)),
    ("request_object_id", "object id", req("ping", None, {"x": 1})),
    ("request_empty_string_id", "empty string id -> -32600 validator text", req("ping", None, "")),
    ("request_long_id", "257-char id -> -32600", req("ping", None, "i" * 257)),
    ("request_max_len_id", "256-char id accepted", req("ping", None, "i" * 256)),
    ("request_negative_id", "negative integer id -> -32600", req("ping", None, -1)),
    ("request_add_floats", "add(0.1, 0.2) -> float result as JSON number", req("add", {"a": 0.1, "b": 0.2})),
    ("request_ping", "built-in ping without params", req("ping")),
    ("request_ping_empty_object", "ping with params {}", req("ping", {})),
    ("request_ping_empty_array", "ping with params []", req("ping", [])),
    ("request_ping_null_params", "ping with params null", {"raw": '{"jsonrpc": "2.0", "id": "p0", "method": "ping", "params": null}'}),
    ("request_get_channel_id", "built-in _get_channel_id_", req("_get_channel_id_")),
    ("request_echo", "utility echo", req("echo", {"text": "hello"})),
    ("request_echo_unicode", "non-ASCII text is escaped as \\uXXXX by Python", req("echo", {"text": "héllo 测试 \U0001F600"})),
    ("request_echo_object", "echo returns any JSON type unchanged", req("echo", {"text": {"a": [1, None, True]}})),
    ("request_get_process_details", "structured (pydantic model) result", req("get_process_details")),
    ("request_big_small", "big(n=10)", req("big", {"n": 10})),
    ("request_length_unicode", "length counts code points", req("length", {"text": "héllo"})),
    ("coerce_concat_ints", "concat declared -> str, ints given: result 3 coerced to \"3\"", req("concat", [1, 2])),
    ("no_type_check_add_strings", "values are not type checked: add('x','y') -> 'xy'", req("add", {"a": "x", "b": "y"})),
    ("typeerror_in_handler", "TypeError raised inside the handler -> -32602", req("length", {"text": 5})),
    ("notification", "notification (no id): no reply", {"jsonrpc": "2.0", "method": "note", "params": {"event": "n1"}}),
    ("notification_null_id", "id null is a notification too", {"jsonrpc": "2.0", "id": None, "method": "note", "params": {"event": "n2"}}),
    ("notification_unknown_method", "unknown method as notification: nothing", {"jsonrpc": "2.0", "method": "nope"}),
    ("notification_wrong_version", "envelope errors are answered even for notifications", {"jsonrpc": "1.0", "method": "note", "params": {"event": "x"}}),
    ("null_result", "handler returns None -> reply with neither result nor error", req("note", {"event": "as-request"}, "null-1")),
    ("err_batch_array", "batch array -> one -32600, nothing executed", [req("ping", None, "b1"), req("ping", None, "b2")]),
    ("err_non_object_string", "JSON string -> -32600", "hello"),
    ("err_non_object_number", "JSON number -> -32600", 42),
    ("err_non_object_float", "JSON float -> -32600", 4.5),
    ("err_non_object_bool", "JSON true -> -32600", True),
    ("err_non_object_null", "JSON null -> -32600", {"raw": "null"}),
    ("err_wrong_version", "jsonrpc 1.0 -> -32600", {"jsonrpc": "1.0", "id": "v1", "method": "ping"}),
    ("err_version_number", "jsonrpc 2.0 as a number -> -32600", {"raw": '{"jsonrpc": 2.0, "id": "v2", "method": "ping"}'}),
    ("err_missing_version", "no jsonrpc member -> -32600 'None'", {"id": "v3", "method": "ping"}),
    ("err_unknown_format_empty", "{} -> -32600 Unknown message format, id null", {}),
    ("err_unknown_format_with_id", "id only -> -32600 with that id", {"jsonrpc": "2.0", "id": "r1"}),
    ("err_legacy_envelope", "legacy dialect envelope sent to a 2.0 server", {"request": {"method": "echo", "arguments": {"text": "hi"}, "call_id": "c1"}, "response": None}),
    ("err_method_not_string", "method 123 -> -32600 validator text", {"jsonrpc": "2.0", "id": "m1", "method": 123}),
    ("err_params_string", "params as a string -> -32600 validator text", req("ping", "abc", "m2")),
    ("err_method_not_found", "unknown method -> -32601", req("nope", None, "nf-1")),
    ("err_method_empty", "empty method name -> -32601", req("", None, "nf-2")),
    ("err_private_method", "underscore method -> -32601 not accessible", req("_copy_", None, "nf-3")),
    ("err_not_callable", "non-callable attribute -> -32601", req("notes", None, "nf-4")),
    ("err_params_too_many", "array too long -> -32602", req("concat", ["a", "b", "c"], "p-1")),
    ("err_params_too_few", "array too short -> -32602", req("concat", ["a"], "p-2")),
    ("err_params_unexpected_kwarg", "unknown named param -> -32602 (TypeError)", req("concat", {"a": "x", "b": "y", "z": 1}, "p-3")),
    ("err_params_missing_kwarg", "missing named param -> -32602 (TypeError)", req("concat", {"a": "x"}, "p-4")),
    ("err_internal_production", "handler raises, production mode -> -32603", req("fail", {"message": "boom"}, "f-1")),
    ("response_unmatched", "response for an unknown id is dropped silently", {"jsonrpc": "2.0", "id": "zz", "result": 1}),
    ("response_null_id", "response with id null is dropped silently", {"jsonrpc": "2.0", "id": None, "result": 1}),
    ("response_wrong_version", "response with wrong version -> -32600 with its id", {"jsonrpc": "1.0", "id": "rv", "result": 1}),
    ("response_bad_error_object", "error member not an object -> -32600", {"jsonrpc": "2.0", "id": "re", "error": "bad"}),
    ("invalid_json", "invalid JSON text: no reply; session ends", {"raw": "{not json"}),
    ("non_finite_nan", "bare NaN token is accepted by Python's json", {"raw": '{"jsonrpc": "2.0", "id": "nan", "method": "echo", "params": {"text": NaN}}'}),
]


async def jsonrpc_cases(server: Server, out: list, only: str | None) -> None:
    for name, desc, msg in JSONRPC_CASES:
        if only and only not in name:
            continue
        if isinstance(msg, dict) and "raw" in msg and len(msg) == 1:
            out.append(await run_case(server, name, desc, None, raw=msg["raw"]))
        else:
            out.append(await run_case(server, name, desc, msg))


async def special_cases(servers: dict, out: list, only: str | None) -> None:
    default = servers["default"]

    def want(name):
        return not only or only in name

    if want("err_internal_debug"):
        out.append(await run_case(servers["debug"], "err_internal_debug",
                                  "handler raises, debug mode -> -32603 with data",
                                  req("fail", {"message": "boom"}, "f-2")))
        out.append(await run_case(servers["debug"], "err_params_too_many_debug",
                                  "-32602 is identical in debug mode",
                                  req("concat", ["a", "b", "c"], "p-1")))
    if want("binary_frame"):
        out.append(await run_case(default, "binary_frame", "binary frame to a text-mode server",
                                  req("ping", None, "bin-1"), binary=True))
    if want("oversize"):
        limit = 10 * 1024 * 1024
        pad = limit + 1 - len(json.dumps(req("echo", {"text": ""}, "big-1")))
        msg = req("echo", {"text": "x" * pad}, "big-1")
        text = json.dumps(msg)
        assert len(text.encode()) == limit + 1
        out.append(await run_case(default, "oversize", "message of 10 MiB + 1 byte", None, raw=text, quiet=3))
    if want("size_exact_limit"):
        limit = 10 * 1024 * 1024
        pad = limit - len(json.dumps(req("length", {"text": ""}, "big-2")))
        text = json.dumps(req("length", {"text": "x" * pad}, "big-2"))
        assert len(text.encode()) == limit
        out.append(await run_case(default, "size_exact_limit", "message of exactly 10 MiB is accepted",
                                  None, raw=text, quiet=3))
    if want("sync_channel_id"):
        out.append(await run_case(servers["sync"], "sync_channel_id",
                                  "server with rpc_channel_get_remote_id sends _get_channel_id_ right after accept",
                                  None, pre_collect=True))
    if want("on_connect_call"):
        out.append(await run_case(servers["onconnect"], "on_connect_call",
                                  "server (--on-connect-call whoami) calls the client right after accept",
                                  None, pre_collect=True))
    if want("subprotocol"):
        for label, subs in (("none", ()), ("other_only", ("other.v1",)),
                            ("multi", ("custom.v1", "jsonrpc2.0"))):
            name = f"subprotocol_offer_{label}"
            try:
                out.append(await run_case(default, name, f"client offers {list(subs)} to a default server",
                                          req("ping", None, "sp"), subprotocols=subs))
            except Exception as exc:  # handshake failure is the finding
                out.append({"name": name, "description": f"client offers {list(subs)} to a default server",
                            "server": default.script, "send": req("ping", None, "sp"),
                            "handshake_error": f"{type(exc).__name__}: {exc}", "recv": [], "closed": None})
        nosub = servers["nosub"]
        out.append(await run_case(nosub, "subprotocol_server_none",
                                  "server with --subprotocols '' , client offers jsonrpc2.0",
                                  req("ping", None, "sp")))
    if want("call_me_back"):
        out.append(await call_me_back_flow(default))


async def call_me_back_flow(server: Server) -> dict:
    transcript = []
    async with connect(server.url(), subprotocols=["jsonrpc2.0"], compression=None) as ws:
        first = req("call_me_back", {"method_name": "echo", "args": {"text": "t"}}, "cmb-1")
        await ws.send(json.dumps(first))
        transcript.append({"dir": "send", "frame": first})
        frames, _, _ = await collect(ws)
        incoming_request = None
        for f in frames:
            obj = json.loads(f)
            transcript.append({"dir": "recv", "frame": obj, "raw": f})
            if isinstance(obj, dict) and "method" in obj:
                incoming_request = obj
        answer = {"jsonrpc": "2.0", "id": incoming_request["id"], "result": incoming_request["params"]["text"]}
        await ws.send(json.dumps(answer))
        transcript.append({"dir": "send", "frame": answer})
        await asyncio.sleep(0.3)
        fetch = req("get_response", {"call_id": incoming_request["id"]}, "cmb-2")
        await ws.send(json.dumps(fetch))
        transcript.append({"dir": "send", "frame": fetch})
        frames, _, _ = await collect(ws)
        for f in frames:
            transcript.append({"dir": "recv", "frame": json.loads(f), "raw": f})
        again = req("get_response", {"call_id": incoming_request["id"]}, "cmb-3")
        await ws.send(json.dumps(again))
        transcript.append({"dir": "send", "frame": again})
        frames, closed, _ = await collect(ws)
        for f in frames:
            transcript.append({"dir": "recv", "frame": json.loads(f), "raw": f})
    return {"name": "call_me_back_flow",
            "description": "call_me_back -> server calls our echo -> we answer -> get_response (twice)",
            "server": server.script, "send": first,
            "recv": [t["frame"] for t in transcript if t["dir"] == "recv"],
            "closed": None, "transcript": transcript}


LEGACY_CASES = [
    ("legacy_request_echo", "legacy echo request and response envelope",
     {"request": {"method": "echo", "arguments": {"text": "hi"}, "call_id": "c1"}, "response": None}),
    ("legacy_request_ping", "legacy built-in _ping_",
     {"request": {"method": "_ping_", "arguments": {}, "call_id": "c2"}, "response": None}),
    ("legacy_request_concat", "legacy concat (undeclared return -> str)",
     {"request": {"method": "concat", "arguments": {"a": "x", "b": "y"}, "call_id": "c3"}, "response": None}),
    ("legacy_request_concat_ints", "legacy concat with ints: coerced to str",
     {"request": {"method": "concat", "arguments": {"a": 1, "b": 2}, "call_id": "c3b"}, "response": None}),
    ("legacy_request_process_details", "legacy structured result, result_type = model name",
     {"request": {"method": "get_process_details", "arguments": {}, "call_id": "c4"}, "response": None}),
    ("legacy_request_get_channel_id", "legacy _get_channel_id_",
     {"request": {"method": "_get_channel_id_", "arguments": {}, "call_id": "c5"}, "response": None}),
    ("legacy_request_no_arguments_member", "arguments omitted (defaults to {})",
     {"request": {"method": "_ping_", "call_id": "c6"}}),
    ("legacy_request_null_call_id", "call_id null",
     {"request": {"method": "_ping_", "arguments": {}, "call_id": None}, "response": None}),
    ("legacy_private_method", "underscore method: ignored silently",
     {"request": {"method": "_copy_", "arguments": {}, "call_id": "c7"}, "response": None}),
    ("legacy_unknown_method", "unknown method: exception escapes, session ends",
     {"request": {"method": "nope", "arguments": {}, "call_id": "c8"}, "response": None}),
    ("legacy_bad_arguments", "unexpected argument: exception escapes, session ends",
     {"request": {"method": "echo", "arguments": {"zzz": 1}, "call_id": "c9"}, "response": None}),
    ("legacy_jsonrpc_message", "a JSON-RPC 2.0 request sent to the legacy server: ignored",
     req("echo", {"text": "hi"}, "j1")),
    ("legacy_not_object", "non-object message: validation error, ignored, connection kept", [1, 2]),
    ("legacy_invalid_json", "invalid JSON text", {"raw": "{not json"}),
]


async def legacy_cases(server: Server, out: list, only: str | None) -> None:
    for name, desc, msg in LEGACY_CASES:
        if only and only not in name:
            continue
        if isinstance(msg, dict) and "raw" in msg and len(msg) == 1:
            out.append(await run_case(server, name, desc, None, raw=msg["raw"], subprotocols=()))
        else:
            out.append(await run_case(server, name, desc, msg, subprotocols=()))


async def main_async(args) -> None:
    servers = {}
    try:
        servers["default"] = Server("server_ws_rpc.py")
        servers["debug"] = Server("server_ws_rpc.py", "--debug")
        servers["sync"] = Server("server_ws_rpc.py", "--sync-channel-id")
        servers["onconnect"] = Server("server_ws_rpc.py", "--on-connect-call", "whoami")
        servers["nosub"] = Server("server_ws_rpc.py", "--subprotocols", "")
        servers["legacy"] = Server("legacy_server.py")
        out: list = []
        await jsonrpc_cases(servers["default"], out, args.only)
        await special_cases(servers, out, args.only)
        await legacy_cases(servers["legacy"], out, args.only)
    finally:
        for s in servers.values():
            s.stop()
    os.makedirs(args.out, exist_ok=True)
    for case in out:
        path = os.path.join(args.out, case["name"] + ".json")
        text = json.dumps(case, indent=2, ensure_ascii=False)
        # keep machine paths out of the golden files (get_process_details results)
        text = text.replace(HERE, "<dir>").replace(PY, "<python>")
        with open(path, "w") as fh:
            fh.write(text + "\n")
        print(f"{case['name']}: recv={len(case.get('recv', []))} closed={case.get('closed')}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(HERE, "frames"))
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    asyncio.run(asyncio.wait_for(main_async(args), 600))


if __name__ == "__main__":
    main()
