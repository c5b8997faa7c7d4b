"""The binding against the Go example server (examples/go/bidi-server)."""
from __future__ import annotations

import asyncio
import threading

import pytest

import wsrpc


def test_bidirectional_example(go_server: str) -> None:
    can_query, can_exit = threading.Event(), threading.Event()
    delays: list = []
    events: list = []
    with wsrpc.Client(go_server, on_event=events.append) as c:
        @c.method("allow_queries")
        def allow_queries() -> None:
            can_query.set()

        @c.method()
        def allow_exit(delay: float) -> None:
            delays.append(delay)
            can_exit.set()

        assert can_query.wait(10)
        assert c.call("concat", a="hello", b=" world") == "hello world"
        assert can_exit.wait(10)
        assert 1 <= delays[0] <= 4
        assert len(c.channel_id) == 32
    assert [e.kind for e in events] == ["connected", "disconnected"]
    assert events[0].channel_id == events[1].channel_id


def test_positional_params_and_remote_errors(go_server: str) -> None:
    with wsrpc.Client(go_server, methods={"allow_queries": lambda: None,
                                          "allow_exit": lambda delay: None}) as c:
        assert c.call("concat", "x", "y") == "xy"
        assert c.call("ping") == "pong"
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("no_such_method")
        assert ei.value.code == -32601 and "no_such_method" in ei.value.message
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("concat", a=1, b=2)  # the Go server wants strings
        assert ei.value.code == -32602
        assert isinstance(ei.value.data, dict)


def test_asyncio(go_server: str) -> None:
    async def main() -> list:
        queries = asyncio.Event()
        loop = asyncio.get_running_loop()
        async with wsrpc.Client(go_server) as c:
            @c.method()
            async def allow_queries() -> None:  # runs on this event loop
                queries.set()

            c.register("allow_exit", lambda delay: None)
            await asyncio.wait_for(queries.wait(), 10)
            assert asyncio.get_running_loop() is loop
            return await asyncio.gather(*(c.acall("concat", f"{i}", "!") for i in range(50)))

    assert asyncio.run(main()) == [f"{i}!" for i in range(50)]


def test_connect_refused() -> None:
    c = wsrpc.Client("ws://127.0.0.1:1/ws", retry={"enabled": False})
    with pytest.raises(wsrpc.ConnectError):
        c.connect()
    c.close()
    with pytest.raises(wsrpc.ConnectError):
        with wsrpc.Client("ws://127.0.0.1:1/ws", retry={"enabled": False}):
            pass
