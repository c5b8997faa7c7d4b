#!/usr/bin/env python3
"""Byte-exact large messages, with the REAL Python clients, against a server with a size limit.

    large_client.py URL --dialect {jsonrpc,legacy} --limit L [--timeout S]

--dialect jsonrpc: fastapi_ws_rpc 1.2.0's WebSocketRpcClient; legacy:
fastapi_websocket_rpc 0.1.29's.  Both are told the limit L (fastapi_ws_rpc:
backpressure max_message_size; legacy: websockets' max_size), so a reply of
exactly L bytes also proves the Python side accepts it.  The server must expose
echo(text), sha256(text) -> hex SHA-256 of the UTF-8 of text, and
repeat(text, times, suffix="") -> text * times + suffix (py/server_ws_rpc.py,
py/legacy_server.py and the Go fixture do), and have its message size limit set to L.

Every frame the client sends or receives is recorded (websockets' Connection.send
and recv are wrapped before connecting: the UTF-8 bytes of the text, i.e. the
frame's payload), so the sizes here are what was on the wire.  Sizes that depend on
how the server encodes its replies are measured from first captures (the text is
made of whole units plus ASCII padding, which every JSON encoder writes as one
byte a character).

Checks, in this order (the last one ends the connection):
    echo_every_escape_1MiB      ~1 MiB of every JSON escape and non-ASCII text comes
                                back as the same string; the server's SHA-256 of it
                                is ours
    request_at_limit            a request of exactly L bytes is answered, with our SHA-256
    reply_at_limit              a reply of exactly L bytes arrives as the expected string
    request_over_limit_refused  a request of L + 1 bytes: the server closes the
                                connection (1009; no reply)
Each check's detail names the frame it is about: {"frame": {"dir": "sent" |
"received", "len": n, "sha256": hex}} for the Go test to find on the wire.

Output: one JSON object per check {"check", "ok", "detail"}, then
"N passed, M failed"; exit status 1 on failure, 2 if connecting failed.
"""
import argparse
import asyncio
import hashlib

from websockets.asyncio.connection import Connection

from _checklist import Checklist, run_main

FRAMES = {"sent": [], "received": []}
_orig_send, _orig_recv = Connection.send, Connection.recv


def _payload(message) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


async def _send(self, message, *args, **kwargs):
    FRAMES["sent"].append(_payload(message))
    return await _orig_send(self, message, *args, **kwargs)


async def _recv(self, *args, **kwargs):
    message = await _orig_recv(self, *args, **kwargs)
    FRAMES["received"].append(_payload(message))
    return message


Connection.send, Connection.recv = _send, _recv


def exact_unit() -> str:
    """One period of the text: every JSON escape, every control character, DEL, 2-, 3-
    and 4-byte UTF-8, U+2028/U+2029, text that looks like escapes, HTML-sensitive
    characters, each alone and in a run of 64."""
    singles = ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t"]
    singles += [chr(c) for c in range(0x20)]
    singles += ["\x7f", "\x80", "é", "\u07ff", "\u0800", "€", "\u2028", "\u2029", "\ufeff",
                "\ufffd", "\uffff", "😀", "\U0010ffff", "\\ud83d", "\\ud83d\\ude00", "\\u00e9",
                "\\\\u", "<", ">", "&", "'", " ", "A", "~"]
    return "".join(s + s * 64 for s in singles) + 'héllo €uro 😀 "q" \\ /path\u2028end\n'


def frame(direction: str, data: bytes) -> dict:
    return {"dir": direction, "len": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


async def amain(args) -> int:
    cl = Checklist()
    limit = args.limit
    if args.dialect == "jsonrpc":
        from fastapi_ws_rpc import (RpcBackpressureConfig, RpcConnectionConfig, RpcRetryConfig,
                                    RpcUtilityMethods, WebSocketRpcClient, WebSocketRpcClientConfig)
        config = WebSocketRpcClientConfig(
            connection=RpcConnectionConfig(default_response_timeout=args.timeout),
            retry=RpcRetryConfig(max_attempts=2, max_wait=1.0),
            backpressure=RpcBackpressureConfig(max_message_size=limit),
        )
        client = WebSocketRpcClient(args.url, RpcUtilityMethods(), config=config)
    else:
        from fastapi_websocket_rpc import RpcUtilityMethods, WebSocketRpcClient
        client = WebSocketRpcClient(args.url, RpcUtilityMethods(), default_response_timeout=args.timeout,
                                    retry_config=False, max_size=limit)
    if not await cl.connect(client, 30, {"url": args.url, "dialect": args.dialect, "limit": limit}):
        return cl.summary(connected=False)
    other = client.other

    async def call(method, **kwargs):
        """(result, request frame, reply frame) of one call."""
        ns, nr = len(FRAMES["sent"]), len(FRAMES["received"])
        r = await getattr(other, method)(**kwargs)
        return r.result, FRAMES["sent"][ns], FRAMES["received"][nr]

    unit = exact_unit()

    async def c_echo():
        text = unit * ((1 << 20) // len(unit.encode("utf-8")) + 1)
        got, _, reply = await call("echo", text=text)
        if got != text:
            i = first_difference(got or "", text)
            return False, {"error": "echo differs", "at": i, "got": repr((got or "")[i:i + 20]),
                           "want": repr(text[i:i + 20]), "len": [len(got or ""), len(text)]}
        digest, request, _ = await call("sha256", text=text)
        return digest == sha(text), {"bytes": len(text.encode("utf-8")), "server_sha256": digest,
                                     "sha256": sha(text), "frame": frame("sent", request),
                                     "reply": frame("received", reply)}

    async def request_size(text):
        _, request, _ = await call("sha256", text=text)
        return len(request)

    state = {}

    async def c_request_at_limit():
        s1, s2 = await request_size(unit), await request_size(unit * 2)
        per_unit, base = s2 - s1, s1 - (s2 - s1)
        k = (limit - base) // per_unit
        text = unit * k
        measured = await request_size(text)
        if measured != base + k * per_unit:
            return False, {"error": "request size is not linear in the units", "measured": measured,
                           "predicted": base + k * per_unit}
        text += "a" * (limit - measured)
        state["text"] = text
        digest, request, _ = await call("sha256", text=text)
        ok = len(request) == limit and digest == sha(text)
        return ok, {"server_sha256": digest, "sha256": sha(text), "frame": frame("sent", request)}

    async def reply_size(times, suffix=""):
        got, _, reply = await call("repeat", text=unit, times=times, suffix=suffix)
        return got, reply

    async def c_reply_at_limit():
        _, r1 = await reply_size(1)
        _, r2 = await reply_size(2)
        per_unit, base = len(r2) - len(r1), len(r1) - (len(r2) - len(r1))
        k = (limit - base) // per_unit
        suffix = "a" * (limit - (base + k * per_unit))
        got, reply = await reply_size(k, suffix)
        want = unit * k + suffix
        ok = len(reply) == limit and got == want
        detail = {"frame": frame("received", reply), "times": k, "suffix": len(suffix)}
        if got != want:
            i = first_difference(got or "", want)
            detail.update(error="result differs", at=i, len=[len(got or ""), len(want)])
        return ok, detail

    async def c_request_over_limit():
        text = state.get("text")
        if text is None:
            return False, "request_at_limit did not run"
        ns = len(FRAMES["sent"])
        try:
            r = await getattr(other, "sha256")(text=text + "a")
            return False, {"error": "answered", "result": getattr(r, "result", r)}
        except Exception as exc:  # noqa: BLE001 - the expected outcome: the connection ends
            sent = FRAMES["sent"][ns] if len(FRAMES["sent"]) > ns else b""
            return len(sent) == limit + 1, {"raised": f"{type(exc).__name__}: {exc}"[:300],
                                            "frame": frame("sent", sent)}

    plan = [("echo_every_escape_1MiB", c_echo), ("request_at_limit", c_request_at_limit),
            ("reply_at_limit", c_reply_at_limit), ("request_over_limit_refused", c_request_over_limit)]
    for name, fn in plan:
        await cl.run(name, fn, args.timeout * 4)
    await cl.close(client)
    return cl.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description="byte-exact large messages with the Python clients")
    parser.add_argument("url")
    parser.add_argument("--dialect", choices=["jsonrpc", "legacy"], required=True)
    parser.add_argument("--limit", type=int, required=True, help="the server's message size limit")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    run_main(amain, args, 120)

if __name__ == "__main__":
    main()
