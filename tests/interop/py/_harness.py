"""Shared helpers for the Python interop servers (not a test module).

run_app() binds 127.0.0.1:<port> itself (port 0 = let the kernel choose), starts
uvicorn on that socket, prints ``LISTENING <port>`` on stdout (flushed) once
uvicorn reports it is serving, and stops the server after ``lifetime`` seconds
so a forgotten process can never outlive a test run.
"""
from __future__ import annotations

import asyncio
import socket
import sys

import uvicorn


def bind_loopback(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def _serve(app, port: int, lifetime: float, log_level: str, ws: str) -> None:
    sock = bind_loopback(port)
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", ws=ws)
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.01)
        sys.stdout.write(f"LISTENING {actual_port}\n")
        sys.stdout.flush()

    async def reaper() -> None:
        await asyncio.sleep(lifetime)
        sys.stderr.write(f"lifetime of {lifetime}s reached, shutting down\n")
        server.should_exit = True

    tasks = [asyncio.create_task(announce()), asyncio.create_task(reaper())]
    try:
        await server.serve(sockets=[sock])
    finally:
        for t in tasks:
            t.cancel()


def run_app(app, port: int, lifetime: float = 900.0, log_level: str = "warning",
            ws: str = "auto") -> None:
    asyncio.run(_serve(app, port, lifetime, log_level, ws))


def add_common_args(parser) -> None:
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    parser.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds (safety net)")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    parser.add_argument("--ws-impl", default="auto",
                        help="uvicorn WebSocket implementation: auto (= websockets legacy), "
                             "websockets, websockets-sansio, wsproto")
