"""wsrpc.compat: fastapi-ws-rpc programs run with only their imports changed."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

import wsrpc
from wsrpc import compat
from wsrpc.compat import RpcMethodsBase, WebSocketRpcClient, WebSocketRpcEndpoint

from conftest import free_port, stop, wait_listening

REPO = Path(__file__).resolve().parents[3]
UPSTREAM_CLIENT = REPO / "tests" / "interop" / "py" / "examples" / "bidi_client.py"


@pytest.fixture(scope="module")
def fastapi_bidi_server() -> Iterator[str]:
    """The bidirectional example server on the real fastapi-ws-rpc library."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(UPSTREAM_CLIENT.with_name("bidi_server.py")), "--port", str(port),
                             "--lifetime", "120", "--max-delay", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        stop(proc)


@pytest.mark.parametrize("server", ["fastapi_bidi_server", "go_instant_server"])
def test_upstream_client_program_with_imports_changed(tmp_path: Path, request: pytest.FixtureRequest,
                                                      server: str) -> None:
    url = request.getfixturevalue(server)
    text = UPSTREAM_CLIENT.read_text()
    assert "from fastapi_ws_rpc import RpcMethodsBase, WebSocketRpcClient" in text
    program = tmp_path / "bidi_client.py"
    program.write_text(text.replace("from fastapi_ws_rpc import", "from wsrpc.compat import"))
    out = subprocess.run([sys.executable, str(program), url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "server called allow_queries()" in out.stdout and "hello world" in out.stdout


class Client(RpcMethodsBase):
    def __init__(self) -> None:
        super().__init__()
        self.queried = asyncio.Event()

    async def allow_queries(self) -> None:
        self.queried.set()

    async def allow_exit(self, delay: Any) -> None:
        pass

    def _private(self) -> None:  # not an RPC method
        raise AssertionError


def test_methods_of_a_class() -> None:
    names = set(compat.rpc_methods(Client()))
    assert names == {"allow_queries", "allow_exit", "ping", "_get_channel_id_"}


def test_client_api_against_fastapi_server(fastapi_server: str) -> None:
    async def main() -> None:
        async with WebSocketRpcClient(fastapi_server, Client()) as client:
            assert client.is_connected
            r = await client.other.concat(a="hello", b=" world")
            assert r.result == "hello world" and r.error is None
            r = await client.call("concat", {"a": "x", "b": "y"}, timeout=5)
            assert r.result == "xy"
            assert (await client.ping()).result == "pong"
            r = await client.other.no_such_method(x=1)
            assert r.error is not None and r.error.code == -32601
            with pytest.raises(compat.UnknownMethodError):
                r.raise_for_error()
            with pytest.raises(AttributeError):
                client.other._private  # noqa: B018
            with pytest.raises(compat.RpcError) as ei:  # upstream's base catches everything
                await client.call("slow", {"seconds": 2}, timeout=0.2)
            assert isinstance(ei.value, asyncio.TimeoutError) and isinstance(ei.value, wsrpc.Timeout)
        assert not client.is_connected
        with pytest.raises(compat.RpcInvalidStateError):
            await client.call("concat", {"a": "x", "b": "y"})

    asyncio.run(main())


def test_errors_are_rpc_errors() -> None:
    async def main() -> None:
        with pytest.raises(compat.RpcError) as ei:
            async with WebSocketRpcClient("ws://127.0.0.1:1/ws", retry={"enabled": False}):
                pass
        assert isinstance(ei.value, compat.RpcConnectError) and "connection refused" in str(ei.value)
        with pytest.raises(compat.RpcError):
            WebSocketRpcClient("ws://x", config=object())

    asyncio.run(main())
    for cls in (compat.RpcChannelClosedError, compat.RpcInvalidStateError, compat.RpcBackpressureError,
                compat.RpcMessageTooLargeError, compat.RpcTimeoutError, compat.UnknownMethodError):
        assert issubclass(cls, compat.RpcError) and issubclass(cls, wsrpc.WsRpcError)


class Server(RpcMethodsBase):
    async def concat(self, a: str = "", b: str = "") -> str:
        return a + b

    async def ask_client(self) -> Any:
        # call the connection this request came on back, as upstream's self.channel does
        r = await self.channel.other.allow_exit(delay=0)
        return {"result": r.result, "channel": self.channel.id}


def test_endpoint_and_client() -> None:
    connected: list = []

    async def on_connect(channel: compat.RpcChannel) -> None:
        connected.append(channel.id)
        await channel.other.allow_queries()  # the instant the client connects

    async def main() -> Any:
        endpoint = WebSocketRpcEndpoint(Server(), on_connect=[on_connect])
        with endpoint.serve("127.0.0.1", 0, "/ws") as srv:
            methods = Client()
            async with WebSocketRpcClient(srv.url, methods) as client:
                await asyncio.wait_for(methods.queried.wait(), 10)
                r = await client.other.concat(a="a", b="b")
                asked = await client.other.ask_client()
                return r.result, asked.result

    concat, asked = asyncio.run(main())
    assert concat == "ab"
    assert asked["result"] is None and asked["channel"] == connected[0]
