#!/usr/bin/env python3
"""Interop test server built on the REAL fastapi_ws_rpc 1.2.0 library.

    server_ws_rpc.py [--port N] [--sync-channel-id] [--debug]
                     [--subprotocols a,b] [--token T] [--on-connect-call M]
                     [--lifetime S] [--log-level L]

* WebSocketRpcEndpoint mounted at ``/ws`` (and ``/ws/{client_id}``, the route
  shape used by the library's own tests) on 127.0.0.1.
* Prints ``LISTENING <port>`` on stdout once uvicorn serves.
* ``--subprotocols``: comma separated list the endpoint accepts with (the library
  always answers with the FIRST entry, whatever the client offered).  Empty string
  = no subprotocol list.  Not given = library default (["jsonrpc2.0"]).
* ``--token T``: the handshake is refused (HTTP 403, socket closed before accept,
  exactly like the library's fast_api_depends test) unless header X-TOKEN == T.
* ``--on-connect-call M``: from the connect callback, start a BACKGROUND call of
  the client's method M with params {"source": "server-on-connect"}; the outcome
  is appended to this connection's notes (see get_notes).

Method set (per connection; RpcUtilityMethods gives ping, _get_channel_id_, echo,
get_process_details, call_me_back, get_response):
    concat(a: str, b: str) -> str
    add(a: float, b: float) -> float
    fail(message: str)          raises RuntimeError(message)
    slow(seconds: float) -> float   sleeps, returns seconds
    big(n: int) -> str          'x' * n
    length(text: str) -> int
    sha256(text: str) -> str    hex SHA-256 of the UTF-8 of text (byte-exact checks)
    repeat(text: str, times: int, suffix: str = "") -> str
                                text * times + suffix (a large reply to a small request)
    call_client(method: str, params: dict | None = None, timeout: float = 10.0) -> str
        starts a background call to the client's `method` and returns its call id
        immediately (see the deadlock note below); when the client's answer
        arrives it is appended to the notes AND stays fetchable once with the
        library's get_response(call_id=<id>).
    note(event: str) -> None    records {"kind": "note", "event": event}
                                (meant to be sent as a notification; called as a
                                request it produces the "null result" reply with
                                neither result nor error, PROTOCOL.md 2.5)
    get_notes() -> list         this connection's notes, in arrival order

Deadlock note (BEHAVIOUR.md 2): the Python endpoint handles one incoming message
at a time, including running its handler.  A handler that *awaits* a call to the
client therefore never sees the answer (it cannot be read until the handler
returns) and waits forever.  call_client therefore only *starts* the call in a
task (as the library's own call_me_back does) and returns the call id.
"""
import argparse
import asyncio
import hashlib
import sys
import time
from typing import Any, Optional

from fastapi import APIRouter, FastAPI, WebSocket

from fastapi_ws_rpc import (
    RpcConnectionConfig,
    RpcDebugConfig,
    RpcUtilityMethods,
    WebSocketConnectionConfig,
    WebSocketRpcEndpoint,
)
from fastapi_ws_rpc.utils import gen_uid

sys.path.insert(0, __import__("os").path.dirname(__file__))
from _harness import add_common_args, run_app  # noqa: E402


def _dump(resp: Any) -> Any:
    """JSON-able form of a JsonRpcResponse (null members dropped, like the wire)."""
    if hasattr(resp, "model_dump"):
        return resp.model_dump(exclude_none=True)
    return resp


class InteropMethods(RpcUtilityMethods):
    """Method set exposed to the client (a fresh copy per connection)."""

    # Annotations are real classes (no postponed evaluation in this module) so the
    # library's result coercion behaves as for ordinary user code: a handler
    # declared ``-> str`` (or undeclared) has a non-str result sent as str(value).

    def __init__(self) -> None:
        super().__init__()
        self.notes: list = []

    def _copy_(self) -> "InteropMethods":
        # The library's default _copy_ is a shallow copy, which would share one
        # notes list between all connections.  Give each connection its own.
        clone = super()._copy_()
        clone.notes = []
        return clone

    async def concat(self, a: str, b: str) -> str:
        return a + b

    async def add(self, a: float, b: float) -> float:
        return a + b

    async def fail(self, message: str) -> str:
        raise RuntimeError(message)

    async def slow(self, seconds: float) -> float:
        await asyncio.sleep(float(seconds))
        return seconds

    async def big(self, n: int) -> str:
        return "x" * int(n)

    async def length(self, text: str) -> int:
        return len(text)

    async def sha256(self, text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    async def repeat(self, text: str, times: int, suffix: str = "") -> str:
        return text * int(times) + suffix

    async def note(self, event: str) -> None:
        self.notes.append({"kind": "note", "event": event})
        return None

    async def get_notes(self) -> list:
        return list(self.notes)

    async def call_client(
        self, method: str, params: Optional[dict] = None, timeout: float = 10.0
    ) -> str:
        if self.channel is None:
            return ""
        call_id = gen_uid()
        asyncio.create_task(
            self._background_call(method, params or {}, call_id, float(timeout), "call_client")
        )
        return call_id

    async def _background_call(
        self, method: str, params: dict, call_id: str, timeout: float, kind: str
    ) -> None:
        entry: dict = {"kind": kind, "call_id": call_id, "method": method, "params": params}
        started = time.monotonic()
        try:
            promise = await self.channel.async_call(method, args=params, call_id=call_id)
            await asyncio.wait_for(promise.wait(), timeout)
            # Do not clear the saved call: the client may still fetch it once
            # with the library's get_response(call_id=...).
            entry["response"] = _dump(self.channel.get_saved_response(call_id))
        except asyncio.TimeoutError:
            entry["error"] = f"timeout after {timeout}s"
        except Exception as exc:  # noqa: BLE001 - recorded for the test to see
            entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["elapsed"] = round(time.monotonic() - started, 3)
        self.notes.append(entry)


def build_app(args: argparse.Namespace) -> FastAPI:
    if args.subprotocols is None:
        ws_config = WebSocketConnectionConfig()  # library default ["jsonrpc2.0"]
    else:
        subs = [s for s in args.subprotocols.split(",") if s]
        ws_config = WebSocketConnectionConfig(subprotocols=subs or None)
    conn_config = RpcConnectionConfig(
        debug=RpcDebugConfig(debug_mode=args.debug), websocket=ws_config
    )

    on_connect = []
    if args.on_connect_call:
        target = args.on_connect_call

        async def call_client_on_connect(channel) -> None:
            # Must not await the call here: connect callbacks are awaited before
            # the endpoint starts reading, so the answer could never arrive.
            asyncio.create_task(
                channel.methods._background_call(
                    target, {"source": "server-on-connect"}, gen_uid(), 10.0, "on_connect"
                )
            )

        on_connect.append(call_client_on_connect)

    endpoint = WebSocketRpcEndpoint(
        InteropMethods(),
        on_connect=on_connect,
        rpc_channel_get_remote_id=args.sync_channel_id,
        connection_config=conn_config,
    )

    app = FastAPI()
    router = APIRouter()
    token = args.token

    async def serve(websocket: WebSocket) -> None:
        if token is not None and websocket.headers.get("x-token") != token:
            # Closing before accept() makes the ASGI server answer the upgrade
            # with HTTP 403 (same as the library's fast_api_depends test).
            await websocket.close(code=1008)
            return
        await endpoint.main_loop(websocket)

    @router.websocket("/ws")
    async def ws_root(websocket: WebSocket) -> None:
        await serve(websocket)

    @router.websocket("/ws/{client_id}")
    async def ws_with_id(websocket: WebSocket, client_id: str) -> None:
        await serve(websocket)

    app.include_router(router)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--sync-channel-id", action="store_true",
                        help="endpoint rpc_channel_get_remote_id=True")
    parser.add_argument("--debug", action="store_true", help="debug_mode=True error disclosure")
    parser.add_argument("--subprotocols", default=None,
                        help="comma separated accept list; '' = none; default = library default")
    parser.add_argument("--token", default=None, help="require header X-TOKEN == T (else HTTP 403)")
    parser.add_argument("--on-connect-call", default=None, metavar="M",
                        help="on connect, call the client's method M in the background")
    args = parser.parse_args()
    run_app(build_app(args), args.port, args.lifetime, args.log_level, args.ws_impl)


if __name__ == "__main__":
    main()
