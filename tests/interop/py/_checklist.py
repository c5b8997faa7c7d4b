"""The report of the interop checklist clients (not a test module).

Each check prints one JSON object {"check", "ok", "detail"}; the run ends with
"N passed, M failed" and exit status 0, 1 if a check failed, 2 if connecting failed.
"""
from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Awaitable, Callable, Optional


class Checklist:
    def __init__(self, only: Optional[str] = None) -> None:
        self.passed = 0
        self.failed = 0
        self.only = only

    def report(self, name: str, ok: bool, detail: Any) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(json.dumps({"check": name, "ok": bool(ok), "detail": detail}, default=str), flush=True)

    async def run(self, name: str, coro_fn: Callable[[], Awaitable], timeout: float) -> None:
        if self.only and self.only not in name:
            return
        try:
            ok, detail = await asyncio.wait_for(coro_fn(), timeout)
        except Exception as exc:  # noqa: BLE001 - every failure is a report line
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        self.report(name, ok, detail)

    async def connect(self, client, timeout: float, detail: Any) -> bool:
        """Enter the client (async with); report "connect" either way."""
        try:
            await asyncio.wait_for(client.__aenter__(), timeout)
        except Exception as exc:  # noqa: BLE001
            self.report("connect", False, f"{type(exc).__name__}: {exc}")
            return False
        self.report("connect", True, detail)
        return True

    async def close(self, client) -> None:
        try:
            await asyncio.wait_for(client.__aexit__(None, None, None), 10)
        except Exception:  # noqa: BLE001
            pass

    def summary(self, connected: bool = True) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        if not connected:
            return 2
        return 0 if self.failed == 0 else 1


def run_main(amain: Callable[[Any], Awaitable[int]], args: Any, overall: float) -> None:
    """asyncio.run(amain(args)) within overall seconds; exit with its status."""
    try:
        rc = asyncio.run(asyncio.wait_for(amain(args), overall))
    except asyncio.TimeoutError:
        print("0 passed, 1 failed (overall timeout)", flush=True)
        rc = 1
    sys.exit(rc)
