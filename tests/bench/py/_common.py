"""Shared by the benchmark's Python load programs (not a test module).

A load runs ``inflight`` workers for a warm-up and a measured window and prints one JSON
line: {"calls", "seconds", "calls_per_sec", "p50_us", "p99_us"[, "error"]}.
"""
import json
import sys
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
