#!/usr/bin/env python3
"""A fastapi-ws-rpc 1.2.0 server (FastAPI + uvicorn) with concat, for the benchmark.

    fastapi_server.py [--lifetime S]

Binds 127.0.0.1 on a free port, serves WebSocketRpcEndpoint at /ws, prints
``LISTENING <port>`` once uvicorn serves, and exits after --lifetime seconds at the latest.
"""
import argparse
import asyncio
import socket

import uvicorn
from fastapi import FastAPI
from fastapi_ws_rpc import RpcMethodsBase, WebSocketRpcEndpoint


class Methods(RpcMethodsBase):
    async def concat(self, a: str, b: str) -> str:
        return a + b


async def main(lifetime: float) -> None:
    app = FastAPI()
    WebSocketRpcEndpoint(Methods()).register_route(app, "/ws")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
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
    try:
        asyncio.run(main(p.parse_args().lifetime))
    except KeyboardInterrupt:
        pass
