"""wsrpc: bidirectional JSON-RPC 2.0 over WebSockets, wire-compatible with fastapi-ws-rpc.

A thin, typed wrapper over libwsrpc (the Go core, through its C API)::

    import wsrpc

    with wsrpc.Client("ws://127.0.0.1:9000/ws") as c:
        @c.method("allow_queries")
        def allow_queries() -> None: ...

        c.call("concat", a="hello", b=" world")        # -> "hello world"
        # in a coroutine: await c.acall("concat", "x", "y")

Methods and event handlers run on library threads (the GIL is taken for them). The library
embeds a Go runtime: do not fork() a process that has imported wsrpc unless the child only
calls exec.
"""
from ._batch import Batch, BatchEntry
from ._core import JSON, Client, Event, Server, current_channel_id, library_version, request_cancelled
from .errors import (
    Backpressure,
    BatchUnsupported,
    Cancelled,
    ConnectError,
    ConnectionClosed,
    ConnectionLost,
    InternalError,
    InvalidArgument,
    ListenError,
    MessageTooLarge,
    NotConnected,
    NotFound,
    RpcError,
    StateError,
    Timeout,
    WsRpcError,
)


def _version() -> str:
    try:  # an installed package: written by setup.py from the project's VERSION file
        from ._version import __version__ as v  # type: ignore[import-not-found]
        return str(v)
    except ImportError:  # the source tree (PYTHONPATH=bindings/python/src): read that file
        from pathlib import Path
        f = Path(__file__).resolve().parents[4] / "pkg" / "wsrpc" / "VERSION"
        return f.read_text().strip() if f.is_file() else "0+unknown"


__version__ = _version()

__all__ = [
    "Client", "Server", "Event", "JSON", "current_channel_id", "request_cancelled",
    "library_version", "Batch", "BatchEntry", "BatchUnsupported", "Cancelled",
    "WsRpcError", "RpcError", "InvalidArgument", "ConnectionClosed", "ConnectionLost",
    "NotConnected", "Timeout", "Backpressure", "MessageTooLarge", "ConnectError",
    "ListenError", "NotFound", "StateError", "InternalError",
]
