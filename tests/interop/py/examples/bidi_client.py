#!/usr/bin/env python3
"""Bidirectional fastapi_ws_rpc client (our own equivalent of the upstream bidirectional
client example).

    bidi_client.py URL

Exposes allow_queries() and allow_exit(delay). Waits until the server calls
allow_queries(), then calls concat(a="hello", b=" world") and prints the result, then waits
until the server has called allow_exit(delay) and the delay has passed. Exit status 0 on
success.
"""
import asyncio
import sys

from fastapi_ws_rpc import RpcMethodsBase, WebSocketRpcClient


class BidiClient(RpcMethodsBase):
    def __init__(self) -> None:
        super().__init__()
        self.can_query = asyncio.Event()
        self.can_exit = asyncio.Event()

    async def allow_queries(self):
        print("server called allow_queries()", flush=True)
        self.can_query.set()

    async def allow_exit(self, delay):
        print(f"server called allow_exit(delay={delay})", flush=True)

        async def later() -> None:
            await asyncio.sleep(float(delay))
            self.can_exit.set()

        asyncio.create_task(later())


async def run(url: str) -> int:
    methods = BidiClient()
    async with WebSocketRpcClient(url, methods) as client:
        # The channel works on a shallow copy of the method object: it shares the events.
        await asyncio.wait_for(methods.can_query.wait(), 20)
        response = await client.other.concat(a="hello", b=" world")
        print(response.result, flush=True)
        await asyncio.wait_for(methods.can_exit.wait(), 20)
    return 0 if response.result == "hello world" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(asyncio.wait_for(run(sys.argv[1]), 60)))
