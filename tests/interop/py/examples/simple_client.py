#!/usr/bin/env python3
"""Simple fastapi_ws_rpc client (our own equivalent of the upstream simple client example).

    simple_client.py URL

Calls concat(a="hello", b=" world") on the server at URL and prints the result.
Exit status 0 when the result is "hello world".
"""
import asyncio
import sys

from fastapi_ws_rpc import RpcMethodsBase, WebSocketRpcClient


async def run(url: str) -> int:
    async with WebSocketRpcClient(url, RpcMethodsBase()) as client:
        response = await client.other.concat(a="hello", b=" world")
        print(response.result, flush=True)
        return 0 if response.result == "hello world" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(asyncio.wait_for(run(sys.argv[1]), 60)))
