"""Shared by the benchmark's Python load programs (not a test module).

A load runs ``inflight`` workers for a warm-up and a measured window and prints one JSON
line: {"calls", "seconds", "calls_per_sec", "p50_us", "p99_us"[, "error"]}.
"""
import asyncio
import json
import sys
import threading
import time


class Meter:
    """Latencies of the calls completed while measuring."""

    def __init__(self) -> None:
        self.phase = 0  # 0 warm-up, 1 measuring, 2 stopped
        self.lat = []
        self.error = None
        self.t0 = self.t1 = 0.0

    def measure(self) -> None:
        self.phase, self.t0 = 1, time.perf_counter()

    def stop(self) -> None:
        if self.phase == 1:
            self.t1 = time.perf_counter()
        self.phase = 2

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = f"{type(exc).__name__}: {exc}"
        self.stop()

    def report(self) -> None:
        window = max(self.t1 - self.t0, 1e-9)
        lat = sorted(self.lat)
        n = len(lat)
        out = {
            "calls": n,
            "seconds": window,
            "calls_per_sec": n / window,
            "p50_us": lat[n * 50 // 100] * 1e6 if n else 0,
            "p99_us": lat[min(n - 1, n * 99 // 100)] * 1e6 if n else 0,
        }
        if self.error:
            out["error"] = self.error
        print(json.dumps(out), flush=True)


def args():
    """URL MODE INFLIGHT WARMUP_S DURATION_S"""
    if len(sys.argv) != 6:
        sys.exit(f"usage: {sys.argv[0]} URL MODE INFLIGHT WARMUP_S DURATION_S")
    return sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])


def _record(m: Meter, r, d: float, check) -> bool:
    """Checks one answer, keeps its latency if measuring; False once the load stopped."""
    if check(r) != "hello world":
        raise ValueError(f"concat answered {r!r}")
    if m.phase == 1:
        m.lat.append(d)
    return m.phase != 2


def run_threads(n: int, warm: float, dur: float, m: Meter, call, check=lambda r: r) -> None:
    """n threads doing call() until the window ends; check(result) must be "hello world"."""
    def worker() -> None:
        try:
            while m.phase != 2:
                t = time.perf_counter()
                r = call()
                if not _record(m, r, time.perf_counter() - t, check):
                    break
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


async def run_tasks(n: int, warm: float, dur: float, m: Meter, call, check=lambda r: r) -> None:
    """n asyncio tasks awaiting call() until the window ends (as run_threads)."""
    async def worker() -> None:
        try:
            while m.phase != 2:
                t = time.perf_counter()
                r = await call()
                if not _record(m, r, time.perf_counter() - t, check):
                    break
        except Exception as exc:  # noqa: BLE001
            m.fail(exc)

    tasks = [asyncio.create_task(worker()) for _ in range(n)]
    await asyncio.sleep(warm)
    m.measure()
    await asyncio.sleep(dur)
    m.stop()
    await asyncio.gather(*tasks)
