"""The binding's own Server and Client (both over libwsrpc in this process)."""
from __future__ import annotations

import asyncio
import importlib.metadata
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import wsrpc


@pytest.fixture()
def server():
    notes: list = []
    s = wsrpc.Server(host="127.0.0.1", port=0, path="/rpc")

    @s.method()
    def concat(a: str, b: str) -> str:
        return a + b

    @s.method()
    def boom() -> None:
        raise ValueError("secret detail")

    @s.method()
    def refuse(reason: str) -> None:
        raise wsrpc.RpcError(4001, "refused", {"reason": reason})

    @s.method()
    def slow(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @s.method()
    async def async_add(a: int, b: int) -> int:
        await asyncio.sleep(0.01)
        return a + b

    @s.method()
    def unserialisable() -> object:
        return object()

    @s.method()
    def note(**kw) -> None:
        notes.append(kw)

    @s.method()
    def call_back(text: str) -> str:
        # a server method calling the client that called it, during the request
        return s.call(wsrpc.current_channel_id(), "client_echo", text)

    s.notes = notes  # type: ignore[attr-defined]
    with s:
        yield s


def echo_client(url: str, **options) -> wsrpc.Client:
    c = wsrpc.Client(url, **options)
    c.register("client_echo", lambda text: "echo:" + text)
    return c.connect()


def test_server_basics(server: wsrpc.Server) -> None:
    assert server.url == f"ws://127.0.0.1:{server.port}/rpc"
    with echo_client(server.url) as c:
        assert c.call("concat", "a", "b") == "ab"
        assert c.call("concat", b="2", a="1") == "12"
        assert c.call("async_add", 2, 3) == 5
        assert c.call("call_back", "hi") == "echo:hi"
        assert len(server.channels) == 1
        chan = server.channels[0]
        assert server.call(chan, "client_echo", text="direct") == "echo:direct"
        c.notify("note", level="info")
        deadline = time.monotonic() + 5
        while not server.notes and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.01)
        assert server.notes == [{"level": "info"}]  # type: ignore[attr-defined]
        with pytest.raises(wsrpc.NotFound):
            server.call("0" * 32, "client_echo", "x")


def test_errors_on_the_wire(server: wsrpc.Server) -> None:
    with echo_client(server.url) as c:
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("boom")
        assert ei.value.code == -32603 and "secret" not in ei.value.message
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("refuse", "because")
        assert (ei.value.code, ei.value.message, ei.value.data) == (4001, "refused", {"reason": "because"})
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("concat", "only one")
        assert ei.value.code == -32602
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("unserialisable")
        assert ei.value.code == -32603
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("_private")
        assert ei.value.code == -32601
        # the connection is still fine
        assert c.call("concat", "o", "k") == "ok"


def test_debug_discloses_handler_errors() -> None:
    with wsrpc.Server(debug=True) as s:
        s.register("boom", lambda: 1 / 0)
        with wsrpc.Client(s.url) as c:
            with pytest.raises(wsrpc.RpcError) as ei:
                c.call("boom")
            assert ei.value.code == -32603 and "ZeroDivisionError" in ei.value.message


def test_bad_input_raises(server: wsrpc.Server) -> None:
    with pytest.raises(wsrpc.InvalidArgument):
        wsrpc.Client(server.url, no_such_option=1)
    with pytest.raises(wsrpc.InvalidArgument):
        wsrpc.Client("")
    with echo_client(server.url) as c:
        with pytest.raises(TypeError):
            c.call("concat", "a", b="b")  # both positional and named
        with pytest.raises(TypeError):
            c.call("concat", object(), "b")  # not JSON
        with pytest.raises(wsrpc.InvalidArgument):
            c.call("")
        with pytest.raises(wsrpc.InvalidArgument):
            c.call("concat", "a", "b", _timeout=-1)
        with pytest.raises(TypeError):
            c.register("x", 42)  # type: ignore[arg-type]
        with pytest.raises(wsrpc.StateError):
            c.connect()
    with pytest.raises(wsrpc.ListenError):
        wsrpc.Server(port=server.port).start().close()


def test_timeout_and_limits(server: wsrpc.Server) -> None:
    with echo_client(server.url, max_message_size=300) as c:
        with pytest.raises(wsrpc.Timeout):
            c.call("slow", 1.0, _timeout=0.1)
        with pytest.raises(wsrpc.MessageTooLarge):
            c.call("concat", "x" * 400, "y")
    with echo_client(server.url, default_response_timeout=0.1) as c:
        with pytest.raises(wsrpc.Timeout):
            c.call("slow", 1.0)


def test_close_semantics(server: wsrpc.Server) -> None:
    c = echo_client(server.url)
    results: list = []

    def pending() -> None:
        try:
            c.call("slow", 3.0)
        except wsrpc.WsRpcError as e:
            results.append(e)

    t = threading.Thread(target=pending)
    t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    c.close()
    t.join(5)
    assert time.monotonic() - t0 < 2.5
    assert len(results) == 1 and isinstance(results[0], wsrpc.ConnectionClosed)
    assert c.closed
    c.close()  # closing again does nothing, like a file's close
    with pytest.raises(wsrpc.ConnectionClosed):
        c.call("concat", "a", "b")
    with pytest.raises(wsrpc.ConnectionClosed):
        c.notify("note")
    with pytest.raises(wsrpc.ConnectionClosed):
        c.register("late", lambda: None)


def test_asyncio_close_with_pending(server: wsrpc.Server) -> None:
    async def main() -> BaseException:
        c = echo_client(server.url)
        task = asyncio.ensure_future(c.acall("slow", 3.0))
        await asyncio.sleep(0.2)
        await asyncio.get_running_loop().run_in_executor(None, c.close)
        try:
            await asyncio.wait_for(task, 2)
        except wsrpc.WsRpcError as e:
            return e
        raise AssertionError("no error")

    assert isinstance(asyncio.run(main()), wsrpc.ConnectionClosed)


def test_threads(server: wsrpc.Server) -> None:
    with echo_client(server.url) as c:
        def work(i: int) -> bool:
            return all(c.call("concat", f"{i}-", str(j)) == f"{i}-{j}" for j in range(25))

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(work, range(8)))


def test_async_server_context_and_events() -> None:
    events: list = []

    async def main() -> str:
        async with wsrpc.Server(on_event=events.append) as s:
            s.register("concat", lambda a, b: a + b)
            async with wsrpc.Client(s.url) as c:
                return await c.acall("concat", "as", "ync")

    assert asyncio.run(main()) == "async"
    kinds = [e.kind for e in events]
    assert kinds[0] == "connected" and "disconnected" in kinds


def test_reconnect_events() -> None:
    events: list = []
    got = threading.Event()

    def on_event(e: wsrpc.Event) -> None:
        events.append(e)
        if e.kind == "reconnecting":
            got.set()

    s = wsrpc.Server().start()
    c = wsrpc.Client(s.url, on_event=on_event, auto_reconnect=True, reconnect_delay=0.05,
                     max_reconnect_attempts=-1).connect()
    s.close()
    assert got.wait(5)
    c.close()
    r = [e for e in events if e.kind == "reconnecting"][0]
    assert r.attempt >= 1 and r.delay >= 0


def test_version() -> None:
    # The package, its distribution metadata and the bundled library all carry the
    # project's one version (pkg/wsrpc/VERSION).
    want = (Path(__file__).resolve().parents[3] / "pkg" / "wsrpc" / "VERSION").read_text().strip()
    assert wsrpc.__version__ == want
    assert importlib.metadata.version("wsrpc-go") == want
    assert wsrpc.library_version() == want


# ---- acall: outcomes through the completion queue ---------------------------------------

def test_acall_outcomes(server: wsrpc.Server) -> None:
    async def main() -> None:
        with echo_client(server.url) as c:
            results = await asyncio.gather(*(c.acall("concat", str(i), "!") for i in range(1000)))
            assert results == [f"{i}!" for i in range(1000)]
            assert await c.acall("async_add", a=2, b=3) == 5
            with pytest.raises(wsrpc.RpcError) as e:
                await c.acall("refuse", "no")
            assert (e.value.code, e.value.message, e.value.data) == (4001, "refused", {"reason": "no"})
            with pytest.raises(wsrpc.Timeout):
                await c.acall("slow", 2.0, _timeout=0.1)
            with pytest.raises(wsrpc.RpcError) as e:
                await c.acall("no_such_method")
            assert e.value.code == -32601
            # a cancelled acall leaves the others alone
            task = asyncio.ensure_future(c.acall("slow", 0.3))
            await asyncio.sleep(0.05)
            task.cancel()
            assert await c.acall("concat", "still", " fine") == "still fine"
            with pytest.raises(asyncio.CancelledError):
                await task
            # the server side calls this client back
            cid = await asyncio.get_running_loop().run_in_executor(None, lambda: server.channels[0])
            assert await server.acall(cid, "client_echo", "back") == "echo:back"
        with pytest.raises(wsrpc.ConnectionClosed):
            await c.acall("concat", "a", "b")

    asyncio.run(main())


def test_acall_on_successive_event_loops(server: wsrpc.Server) -> None:
    with echo_client(server.url) as c:
        for i in range(3):  # asyncio.run makes a new loop each time
            assert asyncio.run(c.acall("concat", "loop", str(i))) == f"loop{i}"
        assert c.call("concat", "sync", " too") == "sync too"


def test_acall_from_two_event_loops_at_once(server: wsrpc.Server) -> None:
    with echo_client(server.url) as c:
        async def many(tag: str) -> list:
            return await asyncio.gather(*(c.acall("concat", tag, str(i)) for i in range(200)))

        with ThreadPoolExecutor(2) as pool:
            a, b = pool.map(lambda tag: asyncio.run(many(tag)), ["a", "b"])
        assert a == [f"a{i}" for i in range(200)] and b == [f"b{i}" for i in range(200)]
