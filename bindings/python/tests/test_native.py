"""The binding feels native and never takes the interpreter down: methods before connecting,
Ctrl-C, validated input, logging, errors that keep their cause, misuse."""
from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import wsrpc
from wsrpc._core import MAX_TIMEOUT

REPO = Path(__file__).resolve().parents[3]


# ---- methods registered before connecting ------------------------------------------------

def test_methods_before_connect_go_server_calls_at_once(go_instant_server: str) -> None:
    queried, allowed = threading.Event(), threading.Event()
    c = wsrpc.Client(go_instant_server, methods={"allow_exit": lambda delay: allowed.set()})

    @c.method()  # a decorator on a client that is not connected yet
    def allow_queries() -> None:
        queried.set()

    with c:  # connects
        assert queried.wait(10)
        assert c.call("concat", a="hello", b=" world") == "hello world"
        assert allowed.wait(10)


def test_methods_before_connect_fastapi_server_calls_at_once(fastapi_instant_server: str) -> None:
    queried = threading.Event()
    with wsrpc.Client(fastapi_instant_server, methods={"allow_queries": queried.set}) as c:
        assert queried.wait(10)
        # what the fastapi-ws-rpc server's on-connect call got: a result, not -32601
        assert c.call("on_connect_outcome") == {"result": None}


def test_explicit_connect_and_async_methods(go_instant_server: str) -> None:
    async def main() -> str:
        queried = asyncio.Event()

        async def allow_queries() -> None:
            queried.set()

        async with wsrpc.Client(go_instant_server, methods={
                "allow_queries": allow_queries, "allow_exit": lambda delay: None}) as c:
            await asyncio.wait_for(queried.wait(), 10)
            return await c.acall("concat", "a", "b")

    assert asyncio.run(main()) == "ab"


@pytest.mark.parametrize("example", ["client.py", "sync_client.py"])
def test_python_examples(go_instant_server: str, example: str) -> None:
    out = subprocess.run([sys.executable, str(REPO / "examples" / "python" / example), "--url", go_instant_server],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "server called allow_queries()" in out.stdout
    assert "'hello world'" in out.stdout


# ---- Ctrl-C --------------------------------------------------------------------------------

def test_ctrl_c_interrupts_a_blocking_call() -> None:
    assert threading.current_thread() is threading.main_thread()
    release = threading.Event()
    with wsrpc.Server(methods={"block": lambda: release.wait(3600), "concat": lambda a, b: a + b}) as s, \
            wsrpc.Client(s.url) as c:
        sent = []

        def interrupt() -> None:
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)

        timer = threading.Timer(0.3, interrupt)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            c.call("block")  # an hour: only Ctrl-C ends this
        latency = time.monotonic() - sent[0]
        timer.join()
        # measured ~50 ms (the wait slice); the bound only separates "interrupted" from
        # "stuck until the call returns"
        assert latency < 5, latency
        assert c.call("concat", a="still", b=" usable") == "still usable"
        release.set()


def _interrupt_after(delay: float, sent: list) -> threading.Timer:
    def interrupt() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(delay, interrupt)
    timer.start()
    return timer


# Nothing listens on port 1: with retries that never end, only Ctrl-C ends a connect.
RETRY_FOREVER = {"max_attempts": 1_000_000, "min_wait": 0.05, "max_wait": 0.05}


def test_ctrl_c_interrupts_connect() -> None:
    assert threading.current_thread() is threading.main_thread()
    c = wsrpc.Client("ws://127.0.0.1:1/ws", retry=RETRY_FOREVER, connect_timeout=None)
    sent: list = []
    timer = _interrupt_after(0.3, sent)
    with pytest.raises(KeyboardInterrupt):
        c.connect()
    latency = time.monotonic() - sent[0]
    timer.join()
    assert latency < 5, latency  # ~50 ms (the wait slice); not "stuck until connected"
    assert not c.closed
    # the attempt was given up, not left running: the client may connect again
    with pytest.raises(wsrpc.ConnectError, match="connection refused"):
        wsrpc.Client("ws://127.0.0.1:1/ws", retry={"enabled": False}).connect()
    sent.clear()
    timer = _interrupt_after(0.2, sent)
    with pytest.raises(KeyboardInterrupt):
        c.connect()  # not StateError ("already connecting")
    timer.join()
    c.close()
    assert c.closed


def test_ctrl_c_interrupts_with_connect() -> None:
    sent: list = []
    c = wsrpc.Client("ws://127.0.0.1:1/ws", retry=RETRY_FOREVER)
    timer = _interrupt_after(0.3, sent)
    with pytest.raises(KeyboardInterrupt):
        with c:
            pytest.fail("connected to nothing")
    assert time.monotonic() - sent[0] < 5
    timer.join()
    assert c.closed  # `with` closes the client it could not connect


def test_connect_error_from_the_pending_connect() -> None:
    c = wsrpc.Client("ws://127.0.0.1:1/ws", retry={"enabled": False})
    with pytest.raises(wsrpc.ConnectError, match="connection refused"):
        c.connect()
    with wsrpc.Server(methods={"concat": lambda a, b: a + b}) as s:
        with pytest.raises(wsrpc.Timeout):
            wsrpc.Client("ws://127.0.0.1:1/ws", retry=RETRY_FOREVER, connect_timeout=0.3).connect()
        c2 = wsrpc.Client(s.url).connect()
        with pytest.raises(wsrpc.StateError, match="already connected"):
            c2.connect()
        assert c2.call("concat", "o", "k") == "ok"
        c2.close()
    c.close()


# ---- validated input -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def local() -> Iterator[wsrpc.Client]:
    with wsrpc.Server() as s:
        s.register("concat", lambda a, b: a + b)
        s.register("echo", lambda x: x)
        with wsrpc.Client(s.url) as c:
            yield c


@pytest.mark.parametrize("timeout", [4294968.296, 2**31 / 1000, MAX_TIMEOUT + 0.001, 0, -1, math.nan,
                                     math.inf, True, "5"])
def test_bad_timeouts_are_refused(local: wsrpc.Client, timeout: Any) -> None:
    with pytest.raises(wsrpc.InvalidArgument, match="timeout"):
        local.call("concat", "a", "b", _timeout=timeout)
    with pytest.raises(wsrpc.InvalidArgument, match="connect_timeout"):
        wsrpc.Client("ws://127.0.0.1:1/ws", connect_timeout=timeout)


def test_longest_timeout_is_taken(local: wsrpc.Client) -> None:
    assert local.call("concat", "a", "b", _timeout=MAX_TIMEOUT) == "ab"
    try:  # the shortest timeout (1 ms) either answers or times out: it never wraps
        assert local.call("concat", "a", "b", _timeout=0.0001) == "ab"
    except wsrpc.Timeout:
        pass


def test_nul_and_bad_strings_are_refused(local: wsrpc.Client) -> None:
    for name in ["concat\0evil", "\ud800", ""]:
        with pytest.raises(wsrpc.InvalidArgument):
            local.call(name, "a", "b")
        with pytest.raises(wsrpc.InvalidArgument):
            local.notify(name)
        with pytest.raises(wsrpc.InvalidArgument):
            local.register(name, lambda: None)
    with pytest.raises(wsrpc.InvalidArgument):
        wsrpc.Client("ws://127.0.0.1:1/ws\0evil")
    with pytest.raises(wsrpc.InvalidArgument):
        wsrpc.Server(path="/ws\0")
    with pytest.raises(wsrpc.InvalidArgument):
        local.call("echo", math.nan)  # not JSON
    # NUL inside JSON strings is fine: it is escaped
    assert local.call("echo", "a\0b") == "a\0b"


# ---- logging -------------------------------------------------------------------------------

def _failing_call(**options: Any) -> None:
    with wsrpc.Server(**options) as s:
        s.register("boom", lambda: 1 / 0)
        with wsrpc.Client(s.url, log_level="off") as c:
            with pytest.raises(wsrpc.RpcError):
                c.call("boom")


def test_logs_go_to_logging(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="wsrpc"):
        _failing_call()  # log_level follows the "wsrpc" logger's level
    recs = [r for r in caplog.records if r.name == "wsrpc" and "Failed to execute method" in r.getMessage()]
    assert len(recs) == 1 and recs[0].levelno == logging.ERROR
    assert recs[0].wsrpc_attrs["method"] == "boom"  # type: ignore[attr-defined]
    assert "ZeroDivisionError" in recs[0].wsrpc_attrs["err"]  # type: ignore[attr-defined]
    assert "method=boom" in recs[0].getMessage()
    assert "Failed to execute method" not in capfd.readouterr().err  # not on stderr


@pytest.mark.parametrize("level", ["off", "OFF"])
def test_log_level_off(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture, level: str) -> None:
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="wsrpc"):
        _failing_call(log_level=level)
    assert not [r for r in caplog.records if r.name == "wsrpc"]
    assert capfd.readouterr().err == ""


def test_bad_log_level_names_the_option() -> None:
    with pytest.raises(wsrpc.InvalidArgument, match='"log_level"'):
        wsrpc.Client("ws://127.0.0.1:1/ws", log_level="loud")
    with pytest.raises(wsrpc.InvalidArgument, match='"default_response_timeout"'):
        wsrpc.Client("ws://127.0.0.1:1/ws", default_response_timeout=-1)


# ---- errors keep their cause ---------------------------------------------------------------

def test_connect_refused_says_so() -> None:
    c = wsrpc.Client("ws://127.0.0.1:1/ws", retry={"enabled": False})
    with pytest.raises(wsrpc.ConnectError, match="connection refused") as ei:
        c.connect()
    assert isinstance(ei.value, ConnectionError) and ei.value.status == 9
    c.close()


# ---- misuse and hostile callbacks never take the interpreter down ---------------------------

def test_use_after_close() -> None:
    with wsrpc.Server() as s:
        s.register("echo", lambda x: x)
        c = wsrpc.Client(s.url).connect()
        c.close()
        c.close()
        for f in (lambda: c.call("echo", 1), lambda: c.notify("echo", 1),
                  lambda: c.register("m", lambda: None), lambda: c.channel_id,
                  lambda: asyncio.run(c.acall("echo", 1)), c.connect):
            with pytest.raises(wsrpc.ConnectionClosed):
                f()
    s.close()
    with pytest.raises(wsrpc.ConnectionClosed):
        s.call("0" * 32, "m")


class Unserialisable:
    pass


def test_hostile_methods_answer_errors() -> None:
    def loop() -> Any:
        x: list = []
        x.append(x)
        return x

    def exits() -> None:
        raise SystemExit(3)

    def interrupts() -> None:
        raise KeyboardInterrupt

    def bad_rpc_error() -> None:
        raise wsrpc.RpcError(2**40, "code out of range", Unserialisable())

    methods = {"unserialisable": lambda: Unserialisable(), "nan": lambda: math.nan, "loop": loop,
               "exits": exits, "interrupts": interrupts, "bad_rpc_error": bad_rpc_error}
    events: list = []

    def bad_event_handler(e: wsrpc.Event) -> None:
        events.append(e)
        raise RuntimeError("event handler failed")

    with wsrpc.Server(methods=methods, on_event=bad_event_handler, log_level="off") as s:
        s.register("echo", lambda x: x)
        s.register("huge", lambda: "x" * (4 << 20))
        with wsrpc.Client(s.url, log_level="off", max_message_size=8 << 20) as c:
            for name in methods:
                with pytest.raises(wsrpc.RpcError) as ei:
                    c.call(name, _timeout=10)
                assert ei.value.code == -32603, name
            assert c.call("echo", "alive") == "alive"
            assert len(c.call("huge")) == 4 << 20  # a huge result
            with pytest.raises(wsrpc.MessageTooLarge):
                c.call("echo", "x" * (9 << 20))  # a huge input
            assert c.call("echo", "alive") == "alive"
    assert events  # the failing handler was called, and nothing broke


def test_close_from_inside_own_method() -> None:
    with wsrpc.Server() as s:
        done = threading.Event()
        c = wsrpc.Client(s.url)

        def close_me() -> str:
            c.close()
            done.set()
            return "closing"

        c.register("close_me", close_me)
        c.connect()
        chan = s.channels[0]
        try:  # the answer may or may not make it out before the connection closes
            assert s.call(chan, "close_me", _timeout=5) == "closing"
        except (wsrpc.ConnectionClosed, wsrpc.Timeout):
            pass
        assert done.wait(5) and c.closed


def test_async_method_sees_its_channel() -> None:
    seen: list = []

    async def whoami() -> str:
        await asyncio.sleep(0)
        seen.append(wsrpc.current_channel_id())
        return str(wsrpc.current_channel_id())

    async def main() -> str:
        async with wsrpc.Server(methods={"whoami": whoami}) as s:
            async with wsrpc.Client(s.url) as c:
                return await c.acall("whoami")

    chan = asyncio.run(main())
    assert seen == [chan] and len(chan) == 32
