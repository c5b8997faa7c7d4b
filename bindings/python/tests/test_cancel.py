"""Cancellation on the wire: a caller that gives a call up (a cancelled acall task, a
timeout, Ctrl-C) cancels the wsrpc server's handler, which sees it with
wsrpc.request_cancelled(). The server is the binding's own (libwsrpc's C server) in this
process, so the latency from the cancel to the handler seeing it is measured on one clock."""
from __future__ import annotations

import asyncio
import os
import signal
import statistics
import threading
import time
from typing import Dict

import pytest

import wsrpc


class Handlers:
    """wait_cancel(slot, max_s): polls request_cancelled() every millisecond for up to max_s
    seconds; records, per slot, that it started and when it saw the cancellation."""

    def __init__(self) -> None:
        self.started: Dict[int, threading.Event] = {}
        self.cancelled: Dict[int, threading.Event] = {}
        self.ended: Dict[int, threading.Event] = {}
        self.seen_at: Dict[int, float] = {}
        self.lock = threading.Lock()

    def events(self, slot: int):
        with self.lock:
            for d in (self.started, self.cancelled, self.ended):
                d.setdefault(slot, threading.Event())
            return self.started[slot], self.cancelled[slot], self.ended[slot]

    def wait_cancel(self, slot: int, max_s: float) -> str:
        started, cancelled, ended = self.events(slot)
        assert not wsrpc.request_cancelled()
        started.set()
        deadline = time.monotonic() + max_s
        try:
            while time.monotonic() < deadline:
                if wsrpc.request_cancelled():
                    self.seen_at[slot] = time.monotonic()
                    cancelled.set()
                    return "cancelled"
                time.sleep(0.001)
            return "done"
        finally:
            ended.set()


@pytest.fixture()
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture()
def server(handlers: Handlers):
    with wsrpc.Server(host="127.0.0.1", port=0, methods={"wait_cancel": handlers.wait_cancel}) as s:
        yield s


def test_request_cancelled_outside_a_method() -> None:
    assert wsrpc.request_cancelled() is False


def test_cancelled_acall_cancels_the_handler(server: wsrpc.Server, handlers: Handlers) -> None:
    """5 times: the handler sees the cancellation within 5 s; median latency <= 50 ms."""
    latencies = []

    async def main() -> None:
        async with wsrpc.Client(server.url) as c:
            for slot in range(5):
                started, cancelled, _ = handlers.events(slot)
                task = asyncio.create_task(c.acall("wait_cancel", slot, 30))
                assert await asyncio.to_thread(started.wait, 5)
                await asyncio.sleep(0.02)
                t0 = time.monotonic()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert await asyncio.to_thread(cancelled.wait, 5), f"slot {slot}: handler not cancelled"
                latencies.append(handlers.seen_at[slot] - t0)
            assert await c.acall("wait_cancel", 99, 0.01) == "done"  # the client goes on

    asyncio.run(main())
    median = statistics.median(latencies)
    print(f"\ncancel -> handler sees it: median {median * 1e3:.2f} ms, "
          f"min {min(latencies) * 1e3:.2f}, max {max(latencies) * 1e3:.2f} over {len(latencies)}")
    assert median <= 0.050


def test_wait_for_timeout_cancels_the_handler(server: wsrpc.Server, handlers: Handlers) -> None:
    async def main() -> None:
        async with wsrpc.Client(server.url) as c:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.acall("wait_cancel", 1, 30), 0.3)

    _, cancelled, _ = handlers.events(1)
    asyncio.run(main())
    assert cancelled.wait(5)


def test_acall_timeout_cancels_the_handler(server: wsrpc.Server, handlers: Handlers) -> None:
    async def main() -> None:
        async with wsrpc.Client(server.url) as c:
            with pytest.raises(wsrpc.Timeout):
                await c.acall("wait_cancel", 2, 30, _timeout=0.2)

    _, cancelled, _ = handlers.events(2)
    asyncio.run(main())
    assert cancelled.wait(5)


def test_sync_call_timeout_cancels_the_handler(server: wsrpc.Server, handlers: Handlers) -> None:
    _, cancelled, _ = handlers.events(3)
    with wsrpc.Client(server.url) as c:
        with pytest.raises(wsrpc.Timeout):
            c.call("wait_cancel", 3, 30, _timeout=0.2)
        assert cancelled.wait(5)
        assert c.call("wait_cancel", 98, 0.01) == "done"


def test_without_extensions_the_handler_runs_on(server: wsrpc.Server, handlers: Handlers) -> None:
    """A client that declines the extensions (as Python peers do) sends no cancellation."""
    _, cancelled, ended = handlers.events(4)

    async def main() -> None:
        async with wsrpc.Client(server.url, extensions=False) as c:
            task = asyncio.create_task(c.acall("wait_cancel", 4, 0.3))
            assert await asyncio.to_thread(handlers.events(4)[0].wait, 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # (still connected: a closed connection cancels its handlers)
            assert await asyncio.to_thread(ended.wait, 5)

    asyncio.run(main())
    assert ended.wait(5)
    assert not cancelled.is_set()


def test_server_acall_cancel_cancels_the_client_handler(handlers: Handlers) -> None:
    """The other direction: a server's cancelled acall cancels the client's method."""
    async def main() -> None:
        with wsrpc.Server(host="127.0.0.1", port=0) as s:
            async with wsrpc.Client(s.url, methods={"wait_cancel": handlers.wait_cancel}) as c:
                chan = None
                for _ in range(500):
                    if s.channels:
                        chan = s.channels[0]
                        break
                    await asyncio.sleep(0.01)
                assert chan is not None and c is not None
                started, cancelled, _ = handlers.events(5)
                task = asyncio.create_task(s.acall(chan, "wait_cancel", 5, 30))
                assert await asyncio.to_thread(started.wait, 5)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert await asyncio.to_thread(cancelled.wait, 5)

    asyncio.run(main())


def test_cancelled_acall_against_a_python_server(fastapi_server: str) -> None:
    """fastapi-ws-rpc takes no extensions: cancelling works locally, the server goes on."""
    async def main() -> None:
        async with wsrpc.Client(fastapi_server) as c:
            task = asyncio.create_task(c.acall("slow", seconds=0.5))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await c.acall("concat", a="o", b="k")

    assert asyncio.run(main()) == "ok"


def test_ctrl_c_in_a_blocking_call_cancels_the_handler(server: wsrpc.Server, handlers: Handlers) -> None:
    assert threading.current_thread() is threading.main_thread()
    started, cancelled, _ = handlers.events(6)
    with wsrpc.Client(server.url) as c:
        def interrupt() -> None:
            if started.wait(5):
                os.kill(os.getpid(), signal.SIGINT)

        timer = threading.Thread(target=interrupt)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            c.call("wait_cancel", 6, 30)
        timer.join()
        assert cancelled.wait(5)


def test_cancelled_acall_cancels_a_go_handler(go_cancel_server: str) -> None:
    """Against tests/cancelserver: the Go handler's ctx.Done() follows the task's cancel
    within 5 s, 5 times, median <= 50 ms (both processes read the same wall clock); a sync
    call's _timeout cancels it too."""
    latencies = []

    async def main() -> None:
        async with wsrpc.Client(go_cancel_server) as c:
            for i in range(5):
                tag = f"py{i}"
                task = asyncio.create_task(c.acall("wait_cancel", tag))
                assert await c.acall("started", tag, 5) is True
                await asyncio.sleep(0.02)
                t0 = time.time_ns()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                at = await c.acall("cancelled", tag, 5)
                assert at > 0, f"{tag}: the Go handler's context did not end"
                latencies.append((at - t0) / 1e9)

    asyncio.run(main())
    median = statistics.median(latencies)
    print(f"\ncancel -> Go handler's ctx.Done(): median {median * 1e3:.2f} ms, "
          f"min {min(latencies) * 1e3:.2f}, max {max(latencies) * 1e3:.2f} over {len(latencies)}")
    assert median <= 0.050
    with wsrpc.Client(go_cancel_server) as c:
        with pytest.raises(wsrpc.Timeout):
            c.call("wait_cancel", "py-timeout", _timeout=0.2)
        assert c.call("cancelled", "py-timeout", 5) > 0


def test_many_cancelled_acalls_leave_nothing_behind(go_cancel_server: str) -> None:
    """100 acalls cancelled at once: every Go handler is cancelled, every completion has
    run (the binding keeps no entry of them), and the client goes on."""
    from wsrpc import _core

    async def main() -> None:
        async with wsrpc.Client(go_cancel_server) as c:
            tags = [f"storm{i}" for i in range(100)]
            tasks = [asyncio.create_task(c.acall("wait_cancel", t)) for t in tags]
            for t in tags:
                assert await c.acall("started", t, 5) is True
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
            for t in tags:
                assert await c.acall("cancelled", t, 5) > 0, t
            for _ in range(500):
                with _core._pending_lock:
                    if not _core._pending:
                        break
                await asyncio.sleep(0.01)
            with _core._pending_lock:
                assert not _core._pending

    asyncio.run(main())


def test_cancelled_asend_cancels_the_batch_calls(go_cancel_server: str) -> None:
    """A batch's asend task cancelled: its calls still unanswered are cancelled on the peer."""
    async def main() -> None:
        async with wsrpc.Client(go_cancel_server) as c:
            b = c.batch()
            b.call("wait_cancel", "batch-a")
            b.call("wait_cancel", "batch-b")
            task = asyncio.create_task(b.asend())
            for t in ("batch-a", "batch-b"):
                assert await c.acall("started", t, 5) is True
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for t in ("batch-a", "batch-b"):
                assert await c.acall("cancelled", t, 5) > 0, t

    asyncio.run(main())
