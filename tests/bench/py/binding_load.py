#!/usr/bin/env python3
"""concat load through the wsrpc Python binding (ctypes over libwsrpc).

    binding_load.py URL sync|asyncio INFLIGHT WARMUP_S DURATION_S

sync: INFLIGHT threads calling Client.call in a loop; asyncio: INFLIGHT tasks awaiting
Client.acall on one event loop.
"""
import asyncio

import wsrpc

from _common import Meter, args, run_tasks, run_threads


def run_sync(url: str, n: int, warm: float, dur: float, m: Meter) -> None:
    with wsrpc.Client(url, default_response_timeout=30) as c:
        run_threads(n, warm, dur, m, lambda: c.call("concat", a="hello", b=" world"))


async def run_asyncio(url: str, n: int, warm: float, dur: float, m: Meter) -> None:
    async with wsrpc.Client(url, default_response_timeout=30) as c:
        await run_tasks(n, warm, dur, m, lambda: c.acall("concat", a="hello", b=" world"))


def main() -> None:
    url, mode, n, warm, dur = args()
    m = Meter()
    if mode == "sync":
        run_sync(url, n, warm, dur, m)
    else:
        asyncio.run(run_asyncio(url, n, warm, dur, m))
    m.report()


if __name__ == "__main__":
    main()
