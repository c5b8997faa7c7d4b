#!/usr/bin/env python3
"""Interop test server built on the REAL legacy library fastapi_websocket_rpc 0.1.29.

    legacy_server.py [--port N] [--sync-channel-id] [--lifetime S] [--log-level L]

WebsocketRPCEndpoint at ``/ws`` (and ``/ws/{client_id}``) on 127.0.0.1; prints
``LISTENING <port>`` once serving.  Legacy envelope: PROTOCOL.md section 14.

Method set: RpcUtilityMethods of the legacy library (_ping_, _get_channel_id_,
echo(text), get_process_details, call_me_back(method_name, args),
get_response(call_id)) plus
    concat(a="", b="")   (undeclared return type, like the upstream example,
                          so a non-str result is sent as str(result))
    sha256(text) -> str  hex SHA-256 of the UTF-8 of text (byte-exact checks)
    repeat(text, times, suffix="") -> str   text * times + suffix
"""
import argparse
import hashlib
import os
import sys

from fastapi import FastAPI, WebSocket

from fastapi_websocket_rpc import RpcUtilityMethods, WebsocketRPCEndpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import add_common_args, run_app  # noqa: E402


class LegacyInteropMethods(RpcUtilityMethods):
    async def concat(self, a="", b=""):
        return a + b

    async def sha256(self, text: str = "") -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    async def repeat(self, text: str = "", times: int = 1, suffix: str = "") -> str:
        return text * int(times) + suffix


def build_app(args) -> FastAPI:
    endpoint = WebsocketRPCEndpoint(
        LegacyInteropMethods(), rpc_channel_get_remote_id=args.sync_channel_id
    )
    app = FastAPI()

    @app.websocket("/ws")
    async def ws_root(websocket: WebSocket):
        await endpoint.main_loop(websocket)

    @app.websocket("/ws/{client_id}")
    async def ws_with_id(websocket: WebSocket, client_id: str):
        await endpoint.main_loop(websocket, client_id)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="legacy fastapi_websocket_rpc interop server")
    add_common_args(parser)
    parser.add_argument("--sync-channel-id", action="store_true")
    args = parser.parse_args()
    run_app(build_app(args), args.port, args.lifetime, args.log_level, args.ws_impl)


if __name__ == "__main__":
    main()
