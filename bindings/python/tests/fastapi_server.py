#!/usr/bin/env python3
"""A server on the REAL fastapi-ws-rpc library, for the binding's interop tests.

    fastapi_server.py [--lifetime S]

Binds 127.0.0.1 on a free port, prints ``LISTENING <port>`` once uvicorn serves, and exits
after ``--lifetime`` seconds at the latest. Methods: RpcUtilityMethods (ping,
get_process_details, call_me_back, get_response) plus concat(a, b), fail(message) and
slow(seconds).
"""
import argparse
import asyncio
import socket
import sys

import uvicorn
from fastapi import FastAPI
from fastapi_ws_rpc import RpcUtilityMethods, WebSocketRpcEndpoint


class Methods(RpcUtilityMethods):
    async def concat(self, a: str, b: str) -> str:
        return a + b

    async def fail(self, message: str) -> str:
        raise RuntimeError(message)

    async def slow(self, seconds: float) -> float:
        await asyncio.sleep(float(seconds))
        return seconds


async def main(lifetime: float) -> None:
    app = FastAPI()
    WebSocketRpcEndpoint(Methods()).register_route(app, "/ws")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.01)
        print(f"LISTENING {sock.getsockname()[1]}", flush=True)

    async def reaper() -> None:
        await asyncio.sleep(lifetime)
        server.should_exit = True

    tasks = [asyncio.create_task(announce()), asyncio.create_task(reaper())]
    try:
        await server.serve(sockets=[sock])
    finally:
        for t in tasks:
            t.cancel()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--lifetime", type=float, default=300.0)
    asyncio.run(main(p.parse_args().lifetime))
    sys.exit(0)
