#!/usr/bin/env python3
"""Simple fastapi_ws_rpc server (our own equivalent of the upstream simple server example).

    simple_server.py [--port N] [--lifetime S]

Serves concat(a="", b="") on ws://127.0.0.1:<port>/ws and prints ``LISTENING <port>``.
concat has no return annotation, so (as for any un-annotated handler) a non-str result
would be sent as str(result).
"""
import argparse
import os
import sys

from fastapi import FastAPI

from fastapi_ws_rpc import RpcMethodsBase, WebSocketRpcEndpoint

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _harness import add_common_args, run_app  # noqa: E402


class ConcatServer(RpcMethodsBase):
    async def concat(self, a="", b=""):
        return a + b


def main() -> None:
    parser = argparse.ArgumentParser(description="simple fastapi_ws_rpc example server")
    add_common_args(parser)
    args = parser.parse_args()
    app = FastAPI()
    WebSocketRpcEndpoint(ConcatServer()).register_route(app, "/ws")
    run_app(app, args.port, args.lifetime, args.log_level, args.ws_impl)


if __name__ == "__main__":
    main()
