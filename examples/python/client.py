#!/usr/bin/env python3
"""Python port of fastapi-ws-rpc's bidirectional client example, over the wsrpc binding.

It waits until the server calls allow_queries(), calls concat("hello", " world"), prints the
result, then waits until the server's allow_exit(delay) has elapsed. asyncio flavour: the
methods are coroutines run on this event loop, and acall() never blocks it. The methods are
registered before connecting, so the server may call them the instant the client connects.

    pip install ./bindings/python          # after `make build`
    python examples/python/client.py --url ws://127.0.0.1:9000/ws
"""
import argparse
import asyncio

import wsrpc


async def main(url: str) -> None:
    can_query = asyncio.Event()
    can_exit = asyncio.Event()

    async def allow_queries() -> None:
        print("server called allow_queries()", flush=True)
        can_query.set()

    async def allow_exit(delay: float) -> None:
        print(f"server called allow_exit(delay={delay})", flush=True)
        asyncio.get_running_loop().call_later(delay, can_exit.set)

    methods = {"allow_queries": allow_queries, "allow_exit": allow_exit}
    async with wsrpc.Client(url, methods=methods, default_response_timeout=10) as client:
        print(f"connected (channel {client.channel_id})", flush=True)
        await asyncio.wait_for(can_query.wait(), 10)
        result = await client.acall("concat", a="hello", b=" world")
        print(f"concat('hello', ' world') = {result!r}", flush=True)
        await asyncio.wait_for(can_exit.wait(), 10)
        print("exiting, as the server allowed", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9000/ws")
    asyncio.run(main(parser.parse_args().url))
