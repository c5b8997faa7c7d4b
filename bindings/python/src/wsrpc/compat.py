"""fastapi-ws-rpc's API over wsrpc: move a program by changing its imports.

    from wsrpc.compat import RpcMethodsBase, WebSocketRpcClient   # was: from fastapi_ws_rpc import ...

    class Methods(RpcMethodsBase):
        async def allow_queries(self) -> None: ...     # public async methods are RPC methods

    async with WebSocketRpcClient("ws://127.0.0.1:9000/ws", Methods()) as client:
        response = await client.other.concat(a="hello", b=" world")
        print(response.result)                         # "hello world"
        response = await client.call("concat", {"a": "x", "b": "y"}, timeout=5)

As upstream: ``call`` and ``other.<method>(**kwargs)`` return a :class:`JsonRpcResponse`
(``.result``, or ``.error`` for the peer's error answer), ``timeout=None`` in ``call`` means
no timeout, and every error raised is a :class:`RpcError` (timeouts are also
``asyncio.TimeoutError``). The errors are also the matching ``wsrpc`` exceptions
(``RpcChannelClosedError`` is a ``wsrpc.ConnectionClosed``, ...). On the server side,
:class:`WebSocketRpcEndpoint` serves an ``RpcMethodsBase`` object with ``wsrpc.Server``
(there is no FastAPI app: give it a host and port).

A thin layer over :class:`wsrpc.Client` and :class:`wsrpc.Server`: options are their
keyword options (``default_response_timeout=5``, ``retry={"enabled": False}``, ...), not
upstream's config objects.
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Coroutine, Dict, Optional, Sequence, Type

from . import errors as _e
from ._core import MAX_TIMEOUT, Client, Event, Method, Server, current_channel_id, log

__all__ = [
    "RpcMethodsBase", "RpcUtilityMethods", "WebSocketRpcClient", "WebSocketRpcEndpoint",
    "RpcChannel", "JsonRpcResponse", "JsonRpcError", "rpc_methods",
    "RpcError", "RpcChannelClosedError", "RpcInvalidStateError", "RpcBackpressureError",
    "RpcMessageTooLargeError", "RpcTimeoutError", "RpcConnectError", "RpcInvalidArgumentError",
    "RemoteValueError", "UnknownMethodError",
]

PING_RESPONSE = "pong"
EXPOSED_BUILT_IN_METHODS = ("ping", "_get_channel_id_")


# ---- errors ---------------------------------------------------------------------------

class RpcError(_e.WsRpcError):
    """Base of every error this module raises (as upstream's ``RpcError``); also a
    ``wsrpc.WsRpcError``."""


class RpcChannelClosedError(RpcError, _e.ConnectionClosed):
    """The connection is closed, or ended while the call waited."""


class RpcInvalidStateError(RpcError, _e.NotConnected):
    """Not connected (yet), or the client is closed."""


class RpcBackpressureError(RpcError, _e.Backpressure):
    """Too many pending calls."""


class RpcMessageTooLargeError(RpcError, _e.MessageTooLarge):
    """A message exceeds ``max_message_size``."""


class RpcConnectError(RpcError, _e.ConnectError):
    """Connecting failed (refused, handshake rejected...)."""


class RpcInvalidArgumentError(RpcError, _e.InvalidArgument):
    """Bad input (options, method name, params); nothing was sent."""


if asyncio.TimeoutError is TimeoutError:  # Python >= 3.11
    class RpcTimeoutError(RpcError, _e.Timeout):
        """No answer in time (also ``asyncio.TimeoutError``, as upstream raises)."""
else:  # pragma: no cover - Python < 3.11
    class RpcTimeoutError(RpcError, _e.Timeout, asyncio.TimeoutError):  # type: ignore[no-redef]
        """No answer in time (also ``asyncio.TimeoutError``, as upstream raises)."""


class RemoteValueError(RpcError):
    """The peer's error answer, raised (``JsonRpcResponse.raise_for_error``)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message, _e.RpcError.status)
        self.code, self.data = code, data


class UnknownMethodError(RemoteValueError):
    """The peer has no such method (-32601)."""


_TRANSLATION: Dict[Type[_e.WsRpcError], Type[RpcError]] = {
    _e.ConnectionClosed: RpcChannelClosedError,
    _e.ConnectionLost: RpcChannelClosedError,
    _e.NotConnected: RpcInvalidStateError,
    _e.StateError: RpcInvalidStateError,
    _e.Backpressure: RpcBackpressureError,
    _e.MessageTooLarge: RpcMessageTooLargeError,
    _e.ConnectError: RpcConnectError,
    _e.InvalidArgument: RpcInvalidArgumentError,
    _e.Timeout: RpcTimeoutError,
}


def _translate(exc: _e.WsRpcError) -> RpcError:
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, _e.RpcError):
        cls: Type[RemoteValueError] = UnknownMethodError if exc.code == -32601 else RemoteValueError
        return cls(exc.code, exc.message, exc.data)
    return _TRANSLATION.get(type(exc), RpcError)(exc.message, exc.status)


# ---- responses ------------------------------------------------------------------------

@dataclass
class JsonRpcError:
    """The ``error`` member of an answer."""

    code: int
    message: str
    data: Any = None


@dataclass
class JsonRpcResponse:
    """An answer, as upstream's ``call`` returns it: ``result``, or ``error``. (``id`` is
    not kept: wsrpc matches answers to calls itself.)"""

    result: Any = None
    error: Optional[JsonRpcError] = None
    id: Optional[str] = None
    jsonrpc: str = "2.0"

    def raise_for_error(self) -> Any:
        """The result, or the error answer raised as RemoteValueError / UnknownMethodError."""
        if self.error is not None:
            cls = UnknownMethodError if self.error.code == -32601 else RemoteValueError
            raise cls(self.error.code, self.error.message, self.error.data)
        return self.result


async def _response(call: Awaitable[Any]) -> JsonRpcResponse:
    try:
        return JsonRpcResponse(result=await call)
    except _e.RpcError as e:
        return JsonRpcResponse(error=JsonRpcError(e.code, e.message, e.data))
    except _e.WsRpcError as e:
        raise _translate(e) from e


_DEFAULT: Any = object()  # "the default_response_timeout option"


def _timeout(timeout: Any) -> Optional[float]:
    """Upstream's call timeout -> wsrpc's: the default stays the default; None (upstream:
    no timeout) becomes the longest timeout wsrpc takes (about 24.8 days)."""
    if timeout is _DEFAULT:
        return None
    return MAX_TIMEOUT if timeout is None else timeout


# ---- methods ----------------------------------------------------------------------------

class RpcMethodsBase:
    """Base class of method collections: every public method (name not starting with
    ``_``) of a subclass is an RPC method, plus the built-ins ``ping`` and
    ``_get_channel_id_``. ``self.channel`` calls the peer back (``self.channel.other.x()``);
    in a server, it is the connection the current request came on."""

    def __init__(self) -> None:
        self._channel: Optional[RpcChannel] = None
        self._server: Optional[Server] = None

    def _set_channel_(self, channel: "RpcChannel") -> None:
        self._channel = channel

    @property
    def channel(self) -> Optional["RpcChannel"]:
        if self._server is not None:
            chan = current_channel_id()
            return RpcChannel(_ServerSide(self._server, chan)) if chan else None
        return self._channel

    def _copy_(self) -> "RpcMethodsBase":
        return copy.copy(self)

    async def ping(self) -> str:
        return PING_RESPONSE

    async def _get_channel_id_(self) -> str:
        if self.channel is None:
            raise RuntimeError("Channel not initialized")
        return self.channel.id


class RpcUtilityMethods(RpcMethodsBase):
    """Upstream's utility methods: ``echo(text)`` and ``get_process_details()``."""

    async def echo(self, text: str) -> str:
        return text

    async def get_process_details(self) -> Dict[str, Any]:
        return {"pid": os.getpid(), "cmd": sys.argv, "workingdir": os.getcwd()}


def rpc_methods(obj: Any) -> Dict[str, Method]:
    """The RPC methods of a method collection (an ``RpcMethodsBase`` or any object): its
    public methods and the built-ins, as ``{name: bound method}`` for ``wsrpc.Client`` /
    ``wsrpc.Server``'s ``methods=``."""
    out: Dict[str, Method] = {}
    for name in dir(type(obj)):
        if name.startswith("_") and name not in EXPOSED_BUILT_IN_METHODS:
            continue
        if not inspect.isfunction(inspect.getattr_static(type(obj), name, None)):
            continue  # properties, static/class methods and other attributes are not methods
        out[name] = getattr(obj, name)
    return out


# ---- channels ---------------------------------------------------------------------------

class _ClientSide:
    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def id(self) -> str:
        return self.client.channel_id

    def acall(self, name: str, args: Dict[str, Any], timeout: Optional[float]) -> Awaitable[Any]:
        return self.client.acall(name, _timeout=timeout, **args)

    def notify(self, name: str, args: Dict[str, Any]) -> None:
        self.client.notify(name, **args)

    def close(self) -> None:
        self.client.close()


class _ServerSide:
    def __init__(self, server: Server, channel_id: str) -> None:
        self.server, self.id = server, channel_id

    def acall(self, name: str, args: Dict[str, Any], timeout: Optional[float]) -> Awaitable[Any]:
        return self.server.acall(self.id, name, _timeout=timeout, **args)

    def notify(self, name: str, args: Dict[str, Any]) -> None:
        self.server.notify(self.id, name, **args)

    def close(self) -> None:
        raise RpcInvalidStateError("wsrpc.compat: a server cannot close one connection")


class _Caller:
    """``channel.other.<method>(**kwargs)``: awaitable JsonRpcResponse."""

    def __init__(self, channel: "RpcChannel") -> None:
        self._channel = channel

    def __getattr__(self, name: str) -> Callable[..., Coroutine[Any, Any, JsonRpcResponse]]:
        if name.startswith("_") and name not in EXPOSED_BUILT_IN_METHODS:
            raise AttributeError(name)

        def proxy(**kwargs: Any) -> Coroutine[Any, Any, JsonRpcResponse]:
            return self._channel.call(name, kwargs)
        return proxy


class RpcChannel:
    """One connection, as upstream's ``RpcChannel``: ``id``, ``other``, ``call``,
    ``notify``."""

    def __init__(self, side: Any) -> None:
        self._side = side

    @property
    def id(self) -> str:
        return str(self._side.id)

    @property
    def other(self) -> Any:
        return _Caller(self)

    async def call(self, name: str, args: Optional[Dict[str, Any]] = None,
                   timeout: Any = _DEFAULT) -> JsonRpcResponse:
        try:
            call = self._side.acall(name, dict(args or {}), _timeout(timeout))
        except _e.WsRpcError as e:
            raise _translate(e) from e
        return await _response(call)

    async def notify(self, name: str, args: Optional[Dict[str, Any]] = None) -> None:
        try:
            self._side.notify(name, dict(args or {}))
        except _e.WsRpcError as e:
            raise _translate(e) from e

    async def close(self) -> None:
        self._side.close()


# ---- client -----------------------------------------------------------------------------

Callback = Callable[[RpcChannel], Awaitable[Any]]


class WebSocketRpcClient:
    """fastapi-ws-rpc's client over ``wsrpc.Client``: ``async with`` connects (the methods
    are registered before, so the server may call them at once) and closes."""

    def __init__(self, uri: str, methods: Optional[RpcMethodsBase] = None, config: Any = None,
                 on_connect: Optional[Sequence[Callback]] = None,
                 on_disconnect: Optional[Sequence[Callback]] = None,
                 on_error: Optional[Sequence[Callback]] = None, **options: Any) -> None:
        if config is not None:
            raise RpcInvalidArgumentError(
                "wsrpc.compat: config objects are not supported; pass wsrpc options as keywords "
                "(default_response_timeout=..., retry={...}, keepalive={...})")
        self.uri = uri
        self.methods = methods if methods is not None else RpcMethodsBase()
        self._on_connect = list(on_connect or [])
        self._on_disconnect = list(on_disconnect or []) + list(on_error or [])
        self._options = options
        self._client: Optional[Client] = None
        self._channel: Optional[RpcChannel] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def __aenter__(self) -> "WebSocketRpcClient":
        return await self.__connect__()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def __connect__(self) -> "WebSocketRpcClient":
        loop = self._loop = asyncio.get_running_loop()
        try:
            client = Client(self.uri, methods=rpc_methods(self.methods), on_event=self._event,
                            **self._options)
        except _e.WsRpcError as e:
            raise _translate(e) from e
        self._client = client
        client._loop = loop  # coroutine methods run on this loop
        self._channel = RpcChannel(_ClientSide(client))
        self.methods._set_channel_(self._channel)
        try:
            await loop.run_in_executor(None, client.connect)
        except BaseException as e:
            await loop.run_in_executor(None, client.close)
            if isinstance(e, _e.WsRpcError):
                raise _translate(e) from e
            raise
        for cb in self._on_connect:
            await cb(self._channel)
        return self

    def _event(self, event: Event) -> None:
        loop, chan = self._loop, self._channel
        if event.kind != "disconnected" or loop is None or chan is None or loop.is_closed():
            return
        for cb in self._on_disconnect:
            asyncio.run_coroutine_threadsafe(_quietly(cb(chan)), loop)

    async def close(self) -> None:
        client = self._client
        if client is not None:
            await asyncio.get_running_loop().run_in_executor(None, client.close)

    def _validate_connected(self) -> RpcChannel:
        if self._channel is None or self._client is None or self._client.closed:
            raise RpcInvalidStateError("wsrpc.compat: not connected (use `async with` or __connect__)")
        return self._channel

    async def call(self, name: str, args: Optional[Dict[str, Any]] = None,
                   timeout: Optional[float] = None) -> JsonRpcResponse:
        """Call ``name`` with ``args`` as named params. As upstream, ``timeout=None`` means
        no timeout here (``other.<method>()`` uses ``default_response_timeout``)."""
        return await self._validate_connected().call(name, args, timeout)

    async def ping(self) -> JsonRpcResponse:
        return await self._validate_connected().other.ping()

    @property
    def other(self) -> Any:
        return self._channel.other if self._channel else None

    @property
    def channel(self) -> Optional[RpcChannel]:
        return self._channel

    @property
    def is_connected(self) -> bool:
        if self._client is None or self._client.closed:
            return False
        try:
            self._client.channel_id
        except _e.WsRpcError:
            return False
        return True


async def _quietly(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except Exception:  # noqa: BLE001 - a callback's failure must not end the loop
        log.exception("wsrpc.compat: callback failed")


# ---- server -----------------------------------------------------------------------------

class WebSocketRpcEndpoint:
    """fastapi-ws-rpc's endpoint over ``wsrpc.Server``: instead of
    ``register_route(app, path)`` and uvicorn, ``start(host, port, path)`` (or
    ``async with endpoint.serve(host, port, path)``) listens. ``on_connect`` callbacks get
    the new connection's RpcChannel and run as tasks on the event loop that started it (or
    on a thread of their own when there is none)."""

    def __init__(self, methods: Optional[RpcMethodsBase] = None,
                 on_connect: Optional[Sequence[Callback]] = None,
                 on_disconnect: Optional[Sequence[Callback]] = None, **options: Any) -> None:
        self.methods = methods if methods is not None else RpcMethodsBase()
        self._on_connect = list(on_connect or [])
        self._on_disconnect = list(on_disconnect or [])
        self._options = options
        self.server: Optional[Server] = None

    def start(self, host: str = "127.0.0.1", port: int = 9000, path: str = "/ws") -> Server:
        """Listen and return the running ``wsrpc.Server`` (``.url``, ``.close()``)."""
        try:
            srv = Server(host, port, path, methods=rpc_methods(self.methods), on_event=self._event,
                         **self._options)
        except _e.WsRpcError as e:
            raise _translate(e) from e
        try:
            srv._loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        self.methods._server = srv
        self.server = srv
        try:
            return srv.start()
        except BaseException:
            srv.close()
            raise

    def serve(self, host: str = "127.0.0.1", port: int = 9000, path: str = "/ws") -> Server:
        """``start`` for ``with``/``async with``: closes the server on exit."""
        return self.start(host, port, path)

    def _event(self, event: Event) -> None:
        srv = self.server
        if srv is None or event.channel_id is None:
            return
        callbacks = {"connected": self._on_connect, "disconnected": self._on_disconnect}.get(event.kind, [])
        chan = RpcChannel(_ServerSide(srv, event.channel_id))
        for cb in callbacks:
            loop = srv._loop
            if loop is not None and not loop.is_closed():
                asyncio.run_coroutine_threadsafe(_quietly(cb(chan)), loop)
            else:
                threading.Thread(target=asyncio.run, args=(_quietly(cb(chan)),), daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
