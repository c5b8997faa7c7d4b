#!/usr/bin/env python3
"""concat load through the wsrpc Python binding (ctypes over libwsrpc).

    binding_load.py URL sync|asyncio INFLIGHT WARMUP_S DURATION_S [ECHO_BYTES]

sync: INFLIGHT threads calling Client.call in a loop; asyncio: INFLIGHT tasks awaiting
Client.acall on one event loop. With ECHO_BYTES, each call is echo("xxx...x") with params
["xxx...x"] of that many bytes (the answer must repeat them) instead of concat.
"""
import asyncio
import sys

import wsrpc

from _common import Meter, args, run_tasks, run_threads


def run_sync(url: str, n: int, warm: float, dur: float, m: Meter, echo: str) -> None:
    with wsrpc.Client(url, default_response_timeout=30) as c:
        if echo:
            run_threads(n, warm, dur, m, lambda: c.call("echo", echo), _echoed(echo))
        else:
            run_threads(n, warm, dur, m, lambda: c.call("concat", a="hello", b=" world"))


async def run_asyncio(url: str, n: int, warm: float, dur: float, m: Meter, echo: str) -> None:
    async with wsrpc.Client(url, default_response_timeout=30) as c:
        if echo:
            await run_tasks(n, warm, dur, m, lambda: c.acall("echo", echo), _echoed(echo))
        else:
            await run_tasks(n, warm, dur, m, lambda: c.acall("concat", a="hello", b=" world"))


def _echoed(echo: str):
    """A check for run_threads/run_tasks: "hello world" when the answer is [echo]."""
    return lambda r: "hello world" if isinstance(r, list) and len(r) == 1 and len(r[0]) == len(echo) else r


def main() -> None:
    echo = ""
    if len(sys.argv) == 7:  # ECHO_BYTES: params ["xxx...x"] of that many bytes
        echo = "x" * (int(sys.argv.pop()) - 4)
    url, mode, n, warm, dur = args()
    m = Meter()
    if mode == "sync":
        run_sync(url, n, warm, dur, m, echo)
    else:
        asyncio.run(run_asyncio(url, n, warm, dur, m, echo))
    m.report()


if __name__ == "__main__":
    main()
