"""Batches (JSON-RPC 2.0 §6) from Python: against the binding's own server, from the server
to a client, and against fastapi-ws-rpc, which answers a batch with one error."""
from __future__ import annotations

import asyncio
import time

import pytest

import wsrpc


@pytest.fixture()
def server():
    notes: list = []
    s = wsrpc.Server(host="127.0.0.1", port=0)

    @s.method()
    def add(a: int, b: int) -> int:
        return a + b

    @s.method()
    def refuse(reason: str) -> None:
        raise wsrpc.RpcError(4001, "refused", {"reason": reason})

    @s.method()
    def echo(**kw):
        return kw

    @s.method()
    def slow(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @s.method()
    def note(n: int) -> None:
        notes.append(n)

    s.notes = notes  # type: ignore[attr-defined]
    with s:
        yield s


def wait_for(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_results_in_order_and_a_member_error(server) -> None:
    with wsrpc.Client(server.url) as c:
        b = c.batch()
        first = b.call("add", 1, 2)
        b.notify("note", 7)
        failing = b.call("refuse", reason="no")
        named = b.call("echo", x=[1, 2])
        slow = b.call("slow", 0.05)
        missing = b.call("no_such_method")
        assert len(b) == 6
        with pytest.raises(wsrpc.StateError):
            first.result()
        entries = b.send()
        assert entries == [first, failing, named, slow, missing] == b.calls
        assert first.result() == 3 and first.exception() is None
        with pytest.raises(wsrpc.RpcError) as e:
            failing.result()
        assert (e.value.code, e.value.message, e.value.data) == (4001, "refused", {"reason": "no"})
        assert named.result() == {"x": [1, 2]}
        assert slow.result() == 0.05
        assert isinstance(missing.exception(), wsrpc.RpcError) and missing.exception().code == -32601
        assert wait_for(lambda: server.notes == [7])
        with pytest.raises(wsrpc.StateError):
            b.send()  # once only
        with pytest.raises(wsrpc.StateError):
            b.call("add", 1, 1)


def test_context_manager_and_notifications_only(server) -> None:
    with wsrpc.Client(server.url) as c:
        with c.batch() as b:
            x = b.call("add", 2, 3)
            y = b.call("add", a=4, b=5)
        assert (x.result(), y.result()) == (5, 9)
        with c.batch() as b:
            b.notify("note", 1)
            b.notify("note", 2)
        assert b.calls == []
        assert wait_for(lambda: sorted(server.notes) == [1, 2])
        # an exception inside the block: nothing is sent
        with pytest.raises(KeyError):
            with c.batch() as b:
                b.notify("note", 3)
                raise KeyError("x")
        time.sleep(0.1)
        assert 3 not in server.notes


def test_bad_input(server) -> None:
    with wsrpc.Client(server.url) as c:
        with pytest.raises(wsrpc.InvalidArgument):
            c.batch().send()  # empty
        b = c.batch()
        with pytest.raises(wsrpc.InvalidArgument):
            b.call("bad\0name")
        with pytest.raises(wsrpc.InvalidArgument):
            b.call("add", float("nan"), 1)
        with pytest.raises(TypeError):
            b.call("add", 1, b=2)
        assert len(b) == 0
        b.call("add", 1, 1)
        with pytest.raises(wsrpc.InvalidArgument):
            b.send(_timeout=-1)
    c2 = wsrpc.Client(server.url)
    try:
        b = c2.batch()  # not connected yet: fine until sent
        b.call("add", 1, 1)
        with pytest.raises(wsrpc.NotConnected):
            b.send()
    finally:
        c2.close()


def test_timeout(server) -> None:
    with wsrpc.Client(server.url) as c:
        b = c.batch()
        slow = b.call("slow", 2)
        b.send(_timeout=0.2)
        with pytest.raises(wsrpc.Timeout):
            slow.result()
        assert c.call("add", 1, 1) == 2


def test_asend(server) -> None:
    async def main():
        async with wsrpc.Client(server.url) as c:
            b = c.batch()
            x = b.call("add", 1, 1)
            y = b.call("refuse", "why")
            assert await b.asend() == [x, y]
            async with c.batch() as b2:
                z = b2.call("add", 3, 3)
            return x.result(), y.exception(), z.result()

    x, y, z = asyncio.run(main())
    assert x == 2 and isinstance(y, wsrpc.RpcError) and y.code == 4001 and z == 6


def test_server_batch_to_client(server) -> None:
    seen = []

    def client_echo(v):
        seen.append(v)
        return v

    with wsrpc.Client(server.url, methods={"client_echo": client_echo}):
        assert wait_for(lambda: len(server.channels) == 1)
        (chan,) = server.channels
        b = server.batch(chan)
        one, two = b.call("client_echo", 1), b.call("client_echo", "two")
        b.send()
        assert (one.result(), two.result()) == (1, "two")
        assert sorted(map(str, seen)) == ["1", "two"]
        bad = server.batch("0123")
        bad.call("client_echo", 1)
        with pytest.raises(wsrpc.NotFound):
            bad.send()


def test_python_peer_without_batches(fastapi_server: str) -> None:
    with wsrpc.Client(fastapi_server) as c:
        b = c.batch()
        x, y = b.call("concat", a="a", b="b"), b.call("concat", a="c", b="d")
        b.notify("ping")
        b.send()
        for e in (x, y):
            with pytest.raises(wsrpc.BatchUnsupported):
                e.result()
            assert isinstance(e.exception(), wsrpc.WsRpcError)
        # the connection remembers: the next batch fails at once, every entry too
        b = c.batch()
        z = b.call("concat", a="e", b="f")
        b.send()
        assert isinstance(z.exception(), wsrpc.BatchUnsupported)
        # split: the entries go one by one
        b = c.batch(split=True)
        x, y = b.call("concat", a="a", b="b"), b.call("concat", a="c", b="d")
        b.send()
        assert (x.result(), y.result()) == ("ab", "cd")
        assert c.call("concat", a="o", b="k") == "ok"


def test_python_peer_split_asend(fastapi_server: str) -> None:
    async def main():
        async with wsrpc.Client(fastapi_server) as c:
            b = c.batch(split=True)
            x = b.call("concat", a="1", b="2")
            b.notify("ping")
            await b.asend()
            return x.result()

    assert asyncio.run(main()) == "12"


def test_readme_example() -> None:
    """README "Batches", the Python part, against a server with its methods."""
    logged = []
    methods = {"sum": lambda *n: sum(n), "subtract": lambda a, b: a - b,
               "log_event": lambda **kw: logged.append(kw)}
    with wsrpc.Server(methods=methods) as s, wsrpc.Client(s.url) as client:
        with client.batch() as b:
            total = b.call("sum", 1, 2, 4)
            b.notify("log_event", level="info")
            diff = b.call("subtract", 42, 23)
        assert (total.result(), diff.result()) == (7, 19)
        assert wait_for(lambda: logged == [{"level": "info"}])


def test_status_codes_of_the_new_errors() -> None:
    """The C API's WSRPC_ERR_BATCH_UNSUPPORTED (16) and WSRPC_ERR_CANCELED (17)."""
    from wsrpc._lib import lib
    from wsrpc.errors import from_status
    assert lib.wsrpc_status_name(16) == b"batch unsupported"
    assert lib.wsrpc_status_name(17) == b"canceled"
    e = from_status(16, "wsrpc: the peer does not support batch requests")
    assert type(e) is wsrpc.BatchUnsupported and isinstance(e, wsrpc.WsRpcError) and e.status == 16
    assert type(from_status(17, "canceled")) is wsrpc.Cancelled

