#!/usr/bin/env python3
"""A server on the REAL fastapi-ws-rpc library, for the binding's interop tests.

    fastapi_server.py [--lifetime S] [--call-on-connect M]

Binds 127.0.0.1 on a free port, prints ``LISTENING <port>`` once uvicorn serves, and exits
after ``--lifetime`` seconds at the latest. Methods: RpcUtilityMethods (ping,
get_process_details, call_me_back, get_response) plus concat(a, b), fail(message) and
slow(seconds). With ``--call-on-connect M`` the server calls the client's method M the instant
a client connects (in the background, as fastapi-ws-rpc's bidirectional example does), and
on_connect_outcome() tells that client what the call got: {"result": ...} or {"error": ...}.
"""
import argparse
import asyncio
import socket
import sys

import uvicorn
from fastapi import FastAPI
from fastapi_ws_rpc import RpcUtilityMethods, WebSocketRpcEndpoint


OUTCOMES: dict = {}  # channel id -> outcome of the on-connect call
TASKS: set = set()


class Methods(RpcUtilityMethods):
    async def on_connect_outcome(self) -> dict:
        for _ in range(500):
            if self.channel.id in OUTCOMES:
                return OUTCOMES[self.channel.id]
            await asyncio.sleep(0.01)
        return {"error": "no outcome yet"}

    async def concat(self, a: str, b: str) -> str:
        return a + b

    async def fail(self, message: str) -> str:
        raise RuntimeError(message)

    async def slow(self, seconds: float) -> float:
        await asyncio.sleep(float(seconds))
        return seconds


async def main(lifetime: float, call_on_connect: str) -> None:
    app = FastAPI()
    on_connect = []
    if call_on_connect:
        async def call_client(channel) -> None:
            async def call() -> None:
                try:
                    r = await channel.call(call_on_connect, {}, timeout=10)
                    OUTCOMES[channel.id] = ({"error": r.error.model_dump()} if r.error else {"result": r.result})
                except Exception as e:  # noqa: BLE001
                    OUTCOMES[channel.id] = {"error": repr(e)}
            t = asyncio.create_task(call())
            TASKS.add(t)
            t.add_done_callback(TASKS.discard)
        on_connect.append(call_client)
    WebSocketRpcEndpoint(Methods(), on_connect=on_connect).register_route(app, "/ws")
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
    p.add_argument("--call-on-connect", default="")
    a = p.parse_args()
    asyncio.run(main(a.lifetime, a.call_on_connect))
    sys.exit(0)
