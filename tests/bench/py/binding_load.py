#!/usr/bin/env python3
"""concat load through the wsrpc Python binding (ctypes over libwsrpc).

    binding_load.py URL sync|asyncio INFLIGHT WARMUP_S DURATION_S

sync: INFLIGHT threads calling Client.call in a loop; asyncio: INFLIGHT tasks awaiting
Client.acall on one event loop.
"""
import asyncio
import threading
import time

import wsrpc

from _common import Meter, args


def run_sync(url: str, n: int, warm: float, dur: float, m: Meter) -> None:
    with wsrpc.Client(url, default_response_timeout=30) as c:
        def worker() -> None:
            try:
                while m.phase != 2:
                    t = time.perf_counter()
                    r = c.call("concat", a="hello", b=" world")
                    d = time.perf_counter() - t
                    if r != "hello world":
                        raise ValueError(f"concat answered {r!r}")
                    if m.phase == 1:
                        m.lat.append(d)
            except Exception as exc:  # noqa: BLE001 - reported in the JSON line
                m.fail(exc)

        threads = [threading.Thread(target=worker) for _ in range(n)]
        for t in threads:
            t.start()
        time.sleep(warm)
        m.measure()
        time.sleep(dur)
        m.stop()
        for t in threads:
            t.join()


async def run_asyncio(url: str, n: int, warm: float, dur: float, m: Meter) -> None:
    async with wsrpc.Client(url, default_response_timeout=30) as c:
        async def worker() -> None:
            try:
                while m.phase != 2:
                    t = time.perf_counter()
                    r = await c.acall("concat", a="hello", b=" world")
                    d = time.perf_counter() - t
                    if r != "hello world":
                        raise ValueError(f"concat answered {r!r}")
                    if m.phase == 1:
                        m.lat.append(d)
            except Exception as exc:  # noqa: BLE001
                m.fail(exc)

        tasks = [asyncio.create_task(worker()) for _ in range(n)]
        await asyncio.sleep(warm)
        m.measure()
        await asyncio.sleep(dur)
        m.stop()
        await asyncio.gather(*tasks)


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
