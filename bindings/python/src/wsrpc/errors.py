"""Exceptions raised by wsrpc, one per status code of the C API (wsrpc_status)."""
from __future__ import annotations

import json
from typing import Any, Optional

__all__ = [
    "WsRpcError", "InvalidArgument", "ConnectionClosed", "ConnectionLost", "NotConnected",
    "Timeout", "RpcError", "Backpressure", "MessageTooLarge", "ConnectError", "ListenError",
    "NotFound", "StateError", "InternalError", "BatchUnsupported", "Cancelled",
]


class WsRpcError(Exception):
    """Base class of every wsrpc error. ``status`` is the C API's status code."""

    status: int = 11

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgument(WsRpcError, ValueError):
    """Bad input (invalid JSON, bad options, empty method name...); nothing was sent."""

    status = 1


class ConnectionClosed(WsRpcError):
    """The client/server (or its connection) is closed; nothing was sent."""

    status = 2


class ConnectionLost(ConnectionClosed):
    """The connection ended while the call waited: the method MAY have run on the peer."""

    status = 3


class NotConnected(WsRpcError):
    """Not connected (yet), or reconnecting with the ``fail_fast`` option."""

    status = 4


class Timeout(WsRpcError, TimeoutError):
    """No answer in time: the method MAY have run on the peer."""

    status = 5


class RpcError(WsRpcError):
    """The peer answered with a JSON-RPC error (``code``, ``message``, ``data``).

    Raise it from a method to answer with exactly that error.
    """

    status = 6

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        s = f"JSON-RPC error {self.code}: {self.message}"
        if self.data is not None:
            s += f" (data: {json.dumps(self.data)})"
        return s

    def __repr__(self) -> str:
        return f"RpcError(code={self.code!r}, message={self.message!r}, data={self.data!r})"


class Backpressure(WsRpcError):
    """Too many pending calls or a full send queue; nothing was sent."""

    status = 7


class MessageTooLarge(WsRpcError):
    """A message exceeds ``max_message_size``."""

    status = 8


class ConnectError(WsRpcError, ConnectionError):
    """Connecting failed (refused, handshake rejected...)."""

    status = 9


class InternalError(WsRpcError):
    status = 11


class ListenError(WsRpcError, OSError):
    """The server could not bind its address."""

    status = 12


class NotFound(WsRpcError, LookupError):
    """No open connection has that channel id."""

    status = 13


class StateError(WsRpcError):
    """Wrong state: already connected / already listening."""

    status = 14


class BatchUnsupported(WsRpcError):
    """The peer answered a batch with one error object (the Python libraries do): none of
    it ran. ``client.batch(split=True)`` sends the entries one by one instead."""

    status = 16


class Cancelled(WsRpcError):
    """The call was cancelled before it ended (asyncio task cancellation raises
    ``asyncio.CancelledError`` instead)."""

    status = 17


_BY_STATUS: dict[int, type[WsRpcError]] = {
    cls.status: cls
    for cls in (InvalidArgument, ConnectionClosed, ConnectionLost, NotConnected, Timeout,
                Backpressure, MessageTooLarge, ConnectError, InternalError, ListenError,
                NotFound, StateError, BatchUnsupported, Cancelled)
}


def from_status(status: int, message: str, rpc_code: int = 0, data_json: Optional[str] = None) -> WsRpcError:
    """Build the exception for a C status code."""
    if status == RpcError.status:
        data = None
        if data_json:
            try:
                data = json.loads(data_json)
            except ValueError:
                data = data_json
        return RpcError(rpc_code, message, data)
    cls = _BY_STATUS.get(status, InternalError)
    return cls(message, status)
