#!/usr/bin/env python3
"""Bidirectional fastapi_ws_rpc server (our own equivalent of the upstream bidirectional
server example).

    bidi_server.py [--port N] [--lifetime S] [--max-delay S]

On ws://127.0.0.1:<port>/ws. When a client connects, it waits 1 s and then calls the
client's allow_queries() in the background. concat(a, b) returns a + b and also calls the
client's allow_exit(delay=<random 1..max-delay>) in the background. Background calls are
never awaited from the handler or the connect callback: the endpoint reads one message at a
time, so awaiting an answer there would block the connection.
"""
import argparse
import asyncio
import os
import random
import sys

from fastapi import FastAPI

from fastapi_ws_rpc import RpcMethodsBase, WebSocketRpcEndpoint

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from _harness import add_common_args, run_app  # noqa: E402

MAX_DELAY = 4
_tasks = set()


def background(coro) -> None:
    task = asyncio.create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class BidiServer(RpcMethodsBase):
    async def concat(self, a="", b=""):
        background(self.channel.other.allow_exit(delay=random.randint(1, MAX_DELAY)))
        return a + b


async def on_connect(channel) -> None:
    async def later() -> None:
        await asyncio.sleep(1)
        await channel.other.allow_queries()

    background(later())


def main() -> None:
    global MAX_DELAY
    parser = argparse.ArgumentParser(description="bidirectional fastapi_ws_rpc example server")
    add_common_args(parser)
    parser.add_argument("--max-delay", type=int, default=4, help="upper bound of allow_exit's delay")
    args = parser.parse_args()
    MAX_DELAY = max(1, args.max_delay)
    app = FastAPI()
    WebSocketRpcEndpoint(BidiServer(), on_connect=[on_connect]).register_route(app, "/ws")
    run_app(app, args.port, args.lifetime, args.log_level, args.ws_impl)


if __name__ == "__main__":
    main()
