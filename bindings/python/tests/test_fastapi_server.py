"""The binding against a server on the real fastapi-ws-rpc library."""
from __future__ import annotations

import asyncio
import threading

import pytest

import wsrpc


def test_concat_and_builtins(fastapi_server: str) -> None:
    with wsrpc.Client(fastapi_server) as c:
        assert c.call("concat", a="hello", b=" world") == "hello world"
        assert c.call("concat", "x", "y") == "xy"
        assert c.call("ping") == "pong"
        details = c.call("get_process_details")
        assert isinstance(details, dict) and details.get("pid")


def test_remote_errors(fastapi_server: str) -> None:
    with wsrpc.Client(fastapi_server) as c:
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("no_such_method", x=1)
        assert ei.value.code == -32601
        with pytest.raises(wsrpc.RpcError) as ei:
            c.call("fail", message="boom")
        assert ei.value.code == -32603
        with pytest.raises(wsrpc.Timeout):
            c.call("slow", seconds=2, _timeout=0.2)
        assert c.call("concat", a="still", b=" alive") == "still alive"


def test_server_calls_client_back(fastapi_server: str) -> None:
    called = threading.Event()
    seen: list = []
    with wsrpc.Client(fastapi_server) as c:
        @c.method()
        def client_method(x: int, text: str = "") -> dict:
            seen.append((x, text))
            called.set()
            return {"doubled": x * 2}

        call_id = c.call("call_me_back", method_name="client_method", args={"x": 21, "text": "hi"})
        assert isinstance(call_id, str) and call_id
        assert called.wait(10)
        assert seen == [(21, "hi")]


def test_asyncio_against_python_server(fastapi_server: str) -> None:
    async def main() -> tuple:
        async with wsrpc.Client(fastapi_server) as c:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            t = asyncio.create_task(ticker())
            slow = await c.acall("slow", seconds=0.5)
            t.cancel()
            many = await asyncio.gather(*(c.acall("concat", a=str(i), b="") for i in range(20)))
            return slow, ticks, many

    slow, ticks, many = asyncio.run(main())
    assert slow == 0.5
    assert ticks >= 20  # the loop kept running while the call waited
    assert many == [str(i) for i in range(20)]
