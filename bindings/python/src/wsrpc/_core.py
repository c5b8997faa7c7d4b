"""Client and Server: thin wrappers over libwsrpc's C API. Internal; import from ``wsrpc``."""
from __future__ import annotations

import asyncio
import atexit
import contextvars
import ctypes
import inspect
import itertools
import json
import logging
import math
import threading
from ctypes import byref, c_void_p
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Mapping, Optional, TypeVar, Union

from . import _lib, _logging
from ._lib import DONE_FN, EVENT_FN, INT_MAX, METHOD_FN, PENDING, Error, lib
from .errors import ConnectionClosed, InvalidArgument, RpcError, WsRpcError, from_status

if TYPE_CHECKING:
    from ._batch import Batch

log = _logging.logger
_logging.install()

F = TypeVar("F", bound=Callable[..., Any])
Method = Callable[..., Any]
EventHandler = Callable[["Event"], Any]

_EVENT_KINDS = {1: "connected", 2: "disconnected", 3: "reconnecting"}


@dataclass(frozen=True)
class Event:
    """A connection event: ``kind`` is "connected", "disconnected" or "reconnecting"."""

    kind: str
    channel_id: Optional[str] = None  # connected / disconnected
    attempt: int = 0  # reconnecting: 1-based attempt number
    delay: float = 0.0  # reconnecting: seconds before the attempt
    error: Optional[WsRpcError] = None  # disconnected / reconnecting: the cause


# ---- helpers -------------------------------------------------------------------------

def _exception(err: Error) -> WsRpcError:
    """The exception described by a filled wsrpc_error, releasing its strings."""
    try:
        msg = ctypes.string_at(err.message).decode("utf-8", "replace") if err.message else ""
        data = ctypes.string_at(err.data_json).decode("utf-8", "replace") if err.data_json else None
        return from_status(err.status, msg, err.rpc_code, data)
    finally:
        lib.wsrpc_error_clear(byref(err))


def _raise(err: Error) -> None:
    """Raise the exception described by a filled wsrpc_error, releasing its strings."""
    raise _exception(err)


def _check(status: int, err: Error) -> None:
    if status != 0:
        _raise(err)


def _dumps(value: Any) -> bytes:
    """JSON text of value; NaN and infinities are refused (they are not JSON)."""
    try:
        return json.dumps(value, allow_nan=False).encode()
    except ValueError as e:  # TypeError (not serialisable) passes through as it is
        raise InvalidArgument(f"wsrpc: not valid JSON: {e}") from None


def _encode_params(args: tuple, kwargs: Dict[str, Any]) -> Optional[bytes]:
    if args and kwargs:
        raise TypeError("wsrpc: pass either positional params (args) or named params (kwargs), not both")
    if kwargs:
        return _dumps(kwargs)
    if args:
        return _dumps(list(args))
    return None


def _cstr(value: str, what: str) -> bytes:
    """A non-empty str as a C string: UTF-8, no NUL (C would cut the string there)."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"wsrpc: {what} must be a non-empty string, got {value!r}")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgument(f"wsrpc: {what} is not valid Unicode: {e}") from None
    if b"\0" in data:
        raise InvalidArgument(f"wsrpc: {what} must not contain NUL characters, got {value!r}")
    return data


def _method_name(method: str) -> bytes:
    return _cstr(method, "method name")


MAX_TIMEOUT = INT_MAX / 1000.0  # seconds: the C API takes int milliseconds


def _timeout_ms(timeout: Optional[float], what: str = "timeout") -> int:
    """Seconds -> the C API's milliseconds (None: 0, the default)."""
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgument(f"wsrpc: {what} must be a number of seconds or None, got {timeout!r}")
    if not (0 < timeout <= MAX_TIMEOUT) or math.isnan(timeout):
        raise InvalidArgument(f"wsrpc: {what} must be > 0 and <= {MAX_TIMEOUT} seconds "
                              f"(None for the default), got {timeout!r}")
    return max(1, int(timeout * 1000))


# How long a call waits inside the library at a time on the main thread: between two waits
# Python runs its signal handlers (Ctrl-C raises KeyboardInterrupt). Other threads get no
# signals and wait in one piece.
_SLICE_MS = 50


def _call(start: Callable[[c_void_p, Error], int]) -> Any:
    """Start a pending call (wsrpc_*_call_start), wait for it and return its decoded result.
    An exception while it runs (KeyboardInterrupt, also one raised the instant the start
    returns) gives the call up: wsrpc_call_release, which cancels it on a wsrpc peer."""
    call, out, err = c_void_p(), c_void_p(), Error()
    wait_ms = _SLICE_MS if threading.current_thread() is threading.main_thread() else -1
    try:
        _check(start(call, err), err)
        status = lib.wsrpc_call_wait(call, wait_ms, byref(out), byref(err))
        while status == PENDING:
            status = lib.wsrpc_call_wait(call, wait_ms, byref(out), byref(err))
    except BaseException:  # KeyboardInterrupt & co: give the call up, drop what it left
        if call.value:
            lib.wsrpc_call_release(call)  # (WSRPC_ERR_CLOSED if it had ended: harmless)
        if out.value:
            lib.wsrpc_free(out)
        lib.wsrpc_error_clear(byref(err))
        raise
    _check(status, err)
    return _decode(_lib.take_string(out))


def _decode(text: str) -> Any:
    return json.loads(text) if text else None


# Completions of async calls: one C trampoline for all, keyed by an integer in user_data.
_pending: Dict[int, Callable[[Optional[str], Optional[WsRpcError]], None]] = {}
_pending_lock = threading.Lock()
_keys = itertools.count(1)


@DONE_FN
def _on_done(user: Optional[int], status: int, result: Optional[bytes], err: Any) -> None:
    with _pending_lock:
        complete = _pending.pop(user or 0, None)
    if complete is None:
        return
    try:
        if status == 0:
            complete((result or b"null").decode(), None)
        else:
            e = err.contents  # owned by the library: read, do not clear
            msg = ctypes.string_at(e.message).decode("utf-8", "replace") if e.message else ""
            data = ctypes.string_at(e.data_json).decode("utf-8", "replace") if e.data_json else None
            complete(None, from_status(status, msg, e.rpc_code, data))
    except BaseException:  # never let an exception unwind into the library
        log.exception("wsrpc: async completion failed")


# Endpoints that are open, kept alive (with their C callbacks) until closed; closed at exit.
_live: Dict[int, "_Endpoint"] = {}
_live_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    with _live_lock:
        endpoints = list(_live.values())
    for ep in endpoints:
        try:
            ep.close()
        except WsRpcError:
            pass
    _logging.uninstall()  # no Python callback may run once the interpreter is finalising


# A context variable, so that coroutine methods (run as tasks on an event loop) see it too.
_channel_id: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("wsrpc_channel_id", default=None)


def current_channel_id() -> Optional[str]:
    """Inside a method: the channel id of the connection the request came on (on a Server,
    pass it to ``Server.call`` to call that client back); None elsewhere."""
    return _channel_id.get()


_reply: contextvars.ContextVar[Optional[int]] = contextvars.ContextVar("wsrpc_reply", default=None)


def request_cancelled() -> bool:
    """Inside a method: True once nobody waits for its answer any more: a wsrpc caller gave
    the call up (a cancelled ``acall`` task, a timeout, ``wsrpc_call_cancel``, a cancelled Go
    context; Python fastapi-ws-rpc peers never cancel) or the connection closed. A method
    that works for long may poll it and stop early (its answer is dropped). False outside
    methods."""
    reply = _reply.get()
    if reply is None:
        return False
    return lib.wsrpc_reply_check(reply) != 0


# ---- endpoint: what Client and Server share --------------------------------------------

class _Endpoint:
    _kind = "endpoint"

    def __init__(self, handle: int, methods: Optional[Mapping[str, Method]],
                 on_event: Optional[EventHandler], log_level: int) -> None:
        self._h: int = handle
        self._log_level = log_level
        self._closed = False
        self._lock = threading.Lock()
        self._thunks: List[Any] = []  # every C callback object handed to the library
        self._event_handlers: List[EventHandler] = []
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        with _live_lock:
            _live[handle] = self
        try:
            thunk = EVENT_FN(self._on_event)
            self._thunks.append(thunk)
            err = Error()
            _check(self._set_event_fn(thunk, err), err)
            if on_event is not None:
                self.on_event(on_event)
            for name, fn in (methods or {}).items():
                self.register(name, fn)
        except BaseException:
            self.close()
            raise

    # subclass hooks
    def _set_event_fn(self, thunk: Any, err: Error) -> int:
        raise NotImplementedError

    def _register_fn(self, name: bytes, thunk: Any, err: Error) -> int:
        raise NotImplementedError

    def _close_fn(self, err: Error) -> int:
        raise NotImplementedError

    # -- methods --

    def register(self, name: str, fn: Method) -> None:
        """Expose ``fn`` to the peer as method ``name`` (replacing any of that name).

        Positional JSON params become positional arguments, named params keyword
        arguments. ``fn`` may be a coroutine function. It runs on a library thread; return a
        JSON-serialisable value, or raise RpcError(code, message, data) to answer with that
        error. Any other exception answers -32603 (details only with the ``debug`` option).
        """
        if not callable(fn):
            raise TypeError(f"wsrpc: method {name!r} is not callable")
        thunk = METHOD_FN(self._trampoline(name, fn))
        err = Error()
        with self._lock:
            _check(self._register_fn(_method_name(name), thunk, err), err)
            self._thunks.append(thunk)

    def method(self, name: Optional[str] = None) -> Callable[[F], F]:
        """Decorator form of register: ``@client.method("name")`` (default: the function name)."""
        def deco(fn: F) -> F:
            self.register(name or fn.__name__, fn)
            return fn
        return deco

    def _trampoline(self, name: str, fn: Method) -> Callable[[Any, bytes, bytes, int], None]:
        try:
            sig: Optional[inspect.Signature] = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None

        def call(_user: Any, channel_id: bytes, params: bytes, reply: int) -> None:
            try:
                self._invoke(name, fn, sig, channel_id, params, reply)
            except BaseException as e:  # never unwind into the library (SystemExit included)
                lib.wsrpc_reply_fail(reply, f"{type(e).__name__} in the Python binding".encode())
        return call

    def _invoke(self, name: str, fn: Method, sig: Optional[inspect.Signature],
                channel_id: bytes, params: bytes, reply: int) -> None:
        try:
            p = json.loads(params) if params else None
        except ValueError as e:  # the library validates; defensive only
            lib.wsrpc_reply_error(reply, -32602, f"Invalid parameters: {e}".encode(), None)
            return
        args: list = []
        kwargs: Dict[str, Any] = {}
        if isinstance(p, list):
            args = p
        elif isinstance(p, dict):
            kwargs = p
        if sig is not None:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as e:
                data = json.dumps({"type": "TypeError", "method": name}).encode()
                lib.wsrpc_reply_error(reply, -32602, f"Invalid parameters: {e}".encode(), data)
                return
        token = _channel_id.set(channel_id.decode() if channel_id else None)
        reply_token = _reply.set(reply)
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = self._run_awaitable(result)
        except RpcError as e:
            data = json.dumps(e.data).encode() if e.data is not None else None
            lib.wsrpc_reply_error(reply, int(e.code), str(e.message).encode(), data)
            return
        except Exception as e:  # the library logs it (at error, with the method's name)
            lib.wsrpc_reply_fail(reply, f"{type(e).__name__}: {e}".encode("utf-8", "replace"))
            return
        finally:
            _reply.reset(reply_token)
            _channel_id.reset(token)
        try:
            text = json.dumps(result, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as e:
            lib.wsrpc_reply_fail(reply, f"result of {name} is not JSON-serialisable: {e}".encode())
            return
        lib.wsrpc_reply_result(reply, text.encode())

    def _run_awaitable(self, aw: Awaitable[Any]) -> Any:
        async def wait() -> Any:
            return await aw
        loop = self._loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            return asyncio.run_coroutine_threadsafe(wait(), loop).result()
        return asyncio.run(wait())

    # -- events --

    def on_event(self, handler: EventHandler) -> EventHandler:
        """Add a connection event handler (usable as a decorator). It runs on a library
        thread; it should return quickly and not make blocking calls."""
        with self._lock:
            self._event_handlers.append(handler)
        return handler

    def _on_event(self, _user: Any, ev_ptr: Any) -> None:
        try:
            ev = ev_ptr.contents
            error = None
            if ev.status != 0:
                error = from_status(ev.status, (ev.message or b"").decode("utf-8", "replace"))
            event = Event(kind=_EVENT_KINDS.get(ev.kind, str(ev.kind)),
                          channel_id=ev.channel_id.decode() if ev.channel_id else None,
                          attempt=ev.attempt, delay=ev.delay_ms / 1000.0, error=error)
            with self._lock:
                handlers = list(self._event_handlers)
            for h in handlers:
                try:
                    h(event)
                except Exception:
                    if self._log_level <= logging.ERROR:
                        log.exception("wsrpc: event handler failed")
        except BaseException:  # never unwind into the library
            pass

    # -- async plumbing --

    async def _await_call(self, start: Callable[[Any, c_void_p, c_void_p, Error], int]) -> Any:
        """Start a cancelable async call (wsrpc_*_call_async_cancelable) and await its
        outcome. Cancelling the awaiting task cancels the call (wsrpc_call_cancel): on a
        wsrpc peer the method's handler is cancelled too."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def settle(result: Optional[str], exc: Optional[WsRpcError]) -> None:
            if fut.done():
                return
            if exc is not None:
                fut.set_exception(exc)
                return
            try:
                fut.set_result(_decode(result or ""))
            except ValueError as e:
                fut.set_exception(e)

        def complete(result: Optional[str], exc: Optional[WsRpcError]) -> None:
            try:
                loop.call_soon_threadsafe(settle, result, exc)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

        key = next(_keys)
        with _pending_lock:
            _pending[key] = complete
        call, err = c_void_p(), Error()
        if start(_on_done, c_void_p(key), call, err) != 0:
            with _pending_lock:
                _pending.pop(key, None)
            _raise(err)
        try:
            return await fut
        except asyncio.CancelledError:
            lib.wsrpc_call_cancel(call)  # (done still runs, and finds the future cancelled)
            raise

    # -- lifecycle --

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close: pending calls fail (ConnectionClosed), running methods finish, no callback
        runs afterwards. Closing again does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        err = Error()
        status = self._close_fn(err)
        with _live_lock:
            _live.pop(self._h, None)
        if status != ConnectionClosed.status:  # closed meanwhile from elsewhere: fine
            _check(status, err)
        else:
            lib.wsrpc_error_clear(byref(err))

    def _close_quietly(self) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<wsrpc.{type(self).__name__} {state}>"


# ---- client ----------------------------------------------------------------------------

class Client(_Endpoint):
    """A connection to a wsrpc or fastapi-ws-rpc server that can call it and be called by it.

    ``options`` are the JSON options of the C API (fastapi-ws-rpc's names; durations in
    seconds), e.g. ``default_response_timeout=5``, ``auto_reconnect=True``,
    ``retry={"enabled": False}``, ``headers={"X-Token": "t"}``.

    Use as a context manager (``with`` or ``async with``): it connects on entry and closes on
    exit. All methods are thread-safe.
    """

    def __init__(self, url: str, *, methods: Optional[Mapping[str, Method]] = None,
                 on_event: Optional[EventHandler] = None,
                 connect_timeout: Optional[float] = 30.0, **options: Any) -> None:
        self._url = _cstr(url, "url")
        self.url = url
        self._connect_ms = _timeout_ms(connect_timeout, "connect_timeout")
        self.connect_timeout = connect_timeout
        err = Error()
        opts, level = _options(options)
        h = lib.wsrpc_client_new(opts, byref(err))
        if not h:
            _raise(err)
        super().__init__(h, methods, on_event, level)

    def _set_event_fn(self, thunk: Any, err: Error) -> int:
        return lib.wsrpc_client_on_event(self._h, thunk, None, byref(err))

    def _register_fn(self, name: bytes, thunk: Any, err: Error) -> int:
        return lib.wsrpc_client_register(self._h, name, thunk, None, byref(err))

    def _close_fn(self, err: Error) -> int:
        return lib.wsrpc_client_close(self._h, byref(err))

    def connect(self) -> "Client":
        """Connect (retrying as the ``retry`` option says) and return self. Methods
        registered before are answered from the first message on."""
        err = Error()
        _check(lib.wsrpc_client_connect(self._h, self._url, self._connect_ms, byref(err)), err)
        self._connected = True
        return self

    def call(self, method: str, /, *args: Any, _timeout: Optional[float] = None, **kwargs: Any) -> Any:
        """Call ``method`` on the server and return its result.

        Positional arguments are sent as a JSON array, keyword arguments as a JSON object.
        ``_timeout`` (seconds) overrides the ``default_response_timeout`` option.
        Raises RpcError for the peer's error answer, Timeout, ConnectionClosed, ...
        Ctrl-C (KeyboardInterrupt) interrupts the wait. A timeout or Ctrl-C cancels the call
        on a wsrpc server too (its handler's context ends).
        """
        name, params, ms = _method_name(method), _encode_params(args, kwargs), _timeout_ms(_timeout)
        return _call(lambda call, err: lib.wsrpc_client_call_start(
            self._h, name, params, ms, byref(call), byref(err)))

    async def acall(self, method: str, /, *args: Any, _timeout: Optional[float] = None, **kwargs: Any) -> Any:
        """``call`` for asyncio: awaits the answer without blocking the event loop.
        Cancelling the task (``task.cancel()``, ``asyncio.wait_for``...) cancels the call; on
        a wsrpc server the method's handler is cancelled too (``request_cancelled()``, a Go
        handler's ctx)."""
        name, params, ms = _method_name(method), _encode_params(args, kwargs), _timeout_ms(_timeout)
        return await self._await_call(lambda fn, key, call, err: lib.wsrpc_client_call_async_cancelable(
            self._h, name, params, ms, fn, key, byref(call), byref(err)))

    def notify(self, method: str, /, *args: Any, **kwargs: Any) -> None:
        """Send a notification (no answer)."""
        name, params = _method_name(method), _encode_params(args, kwargs)
        err = Error()
        _check(lib.wsrpc_client_notify(self._h, name, params, byref(err)), err)

    def batch(self, *, split: bool = False) -> "Batch":
        """A JSON-RPC 2.0 batch to this client's server: add calls and notifications, then
        ``send()`` (or ``await asend()``, or leave a ``with`` block); each call's entry then
        gives its result or raises its error. ``split=True``: a server without batches (a
        Python fastapi-ws-rpc one) gets the entries one by one instead of every call failing
        with BatchUnsupported."""
        from ._batch import Batch
        return Batch(lambda flags, err: lib.wsrpc_client_batch_new(self._h, flags, byref(err)), split)

    def stats(self) -> Dict[str, int]:
        """A snapshot of the client's counters since it connected (all zero before):
        ``connections``, ``connections_total``, ``reconnects``, ``calls_in``, ``calls_out``,
        ``notifications_in``/``_out``, ``errors_in``/``_out``, ``rejected``,
        ``in_flight_in``/``_out``, ``messages_in``/``_out``, ``bytes_in``/``_out``."""
        return _stats(lambda out, err: lib.wsrpc_client_stats(self._h, byref(out), byref(err)))

    @property
    def channel_id(self) -> str:
        """This end's id of the current connection (raises NotConnected while there is none)."""
        out, err = c_void_p(), Error()
        _check(lib.wsrpc_client_channel_id(self._h, byref(out), byref(err)), err)
        return _lib.take_string(out)

    _connected = False

    def __enter__(self) -> "Client":
        """Connect (unless connect() was called already); close on exit."""
        try:
            return self if self._connected else self.connect()
        except BaseException:
            self._close_quietly()
            raise

    def __exit__(self, *exc: Any) -> None:
        self._close_quietly()

    async def __aenter__(self) -> "Client":
        loop = asyncio.get_running_loop()
        self._loop = loop
        try:
            if not self._connected:
                await loop.run_in_executor(None, self.connect)
        except BaseException:
            await loop.run_in_executor(None, self._close_quietly)
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._close_quietly)


# ---- server ----------------------------------------------------------------------------

class Server(_Endpoint):
    """A WebSocket JSON-RPC server on ``host:port`` at ``path`` (port 0 picks a free port).

    Register methods with ``@server.method()``; inside one, ``current_channel_id()`` names
    the calling connection, which ``server.call(channel_id, ...)`` can call back. Use as a
    context manager (``with``/``async with``): it listens on entry and closes on exit.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/ws", *,
                 methods: Optional[Dict[str, Method]] = None,
                 on_event: Optional[EventHandler] = None, **options: Any) -> None:
        _cstr(host, "host")
        _cstr(path, "path")
        self.host, self.port, self.path = host, int(port), path
        self.url: Optional[str] = None
        err = Error()
        opts, level = _options(options)
        h = lib.wsrpc_server_new(opts, byref(err))
        if not h:
            _raise(err)
        super().__init__(h, methods, on_event, level)

    def _set_event_fn(self, thunk: Any, err: Error) -> int:
        return lib.wsrpc_server_on_event(self._h, thunk, None, byref(err))

    def _register_fn(self, name: bytes, thunk: Any, err: Error) -> int:
        return lib.wsrpc_server_register(self._h, name, thunk, None, byref(err))

    def _close_fn(self, err: Error) -> int:
        return lib.wsrpc_server_close(self._h, byref(err))

    def start(self) -> "Server":
        """Bind and start serving; sets ``url`` and ``port``. Returns self."""
        out, err = c_void_p(), Error()
        addr = _cstr(f"{self.host}:{self.port}", "address")
        _check(lib.wsrpc_server_listen(self._h, addr, _cstr(self.path, "path"), byref(out), byref(err)), err)
        self.url = _lib.take_string(out)
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])
        return self

    @property
    def channels(self) -> List[str]:
        """Channel ids of the open connections."""
        out, err = c_void_p(), Error()
        _check(lib.wsrpc_server_channels(self._h, byref(out), byref(err)), err)
        return list(json.loads(_lib.take_string(out)))

    def stats(self) -> Dict[str, int]:
        """A snapshot of the server's counters since it was created (all its connections);
        the members of ``Client.stats``."""
        return _stats(lambda out, err: lib.wsrpc_server_stats(self._h, byref(out), byref(err)))

    def call(self, channel_id: str, method: str, /, *args: Any, _timeout: Optional[float] = None,
             **kwargs: Any) -> Any:
        """Call a method of the client connected on ``channel_id`` and return its result."""
        name, params, ms = _method_name(method), _encode_params(args, kwargs), _timeout_ms(_timeout)
        chan = _cstr(channel_id, "channel_id")
        return _call(lambda call, err: lib.wsrpc_server_call_start(
            self._h, chan, name, params, ms, byref(call), byref(err)))

    async def acall(self, channel_id: str, method: str, /, *args: Any,
                    _timeout: Optional[float] = None, **kwargs: Any) -> Any:
        """``call`` for asyncio."""
        name, params, ms = _method_name(method), _encode_params(args, kwargs), _timeout_ms(_timeout)
        chan = _cstr(channel_id, "channel_id")
        return await self._await_call(lambda fn, key, call, err: lib.wsrpc_server_call_async_cancelable(
            self._h, chan, name, params, ms, fn, key, byref(call), byref(err)))

    def batch(self, channel_id: str, *, split: bool = False) -> "Batch":
        """A JSON-RPC 2.0 batch to the client connected on ``channel_id``; see Client.batch."""
        chan = _cstr(channel_id, "channel_id")
        from ._batch import Batch
        return Batch(lambda flags, err: lib.wsrpc_server_batch_new(self._h, chan, flags, byref(err)), split)

    def notify(self, channel_id: str, method: str, /, *args: Any, **kwargs: Any) -> None:
        """Send a notification to the client connected on ``channel_id``."""
        name, params = _method_name(method), _encode_params(args, kwargs)
        err = Error()
        _check(lib.wsrpc_server_notify(self._h, _cstr(channel_id, "channel_id"), name, params, byref(err)), err)

    def __enter__(self) -> "Server":
        """Start listening (unless start() was called already); close on exit."""
        try:
            return self if self.url else self.start()
        except BaseException:
            self._close_quietly()
            raise

    def __exit__(self, *exc: Any) -> None:
        self._close_quietly()

    async def __aenter__(self) -> "Server":
        self._loop = asyncio.get_running_loop()
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._close_quietly)


def _options(options: Dict[str, Any]) -> "tuple[bytes, int]":
    """The C API's JSON options (``log_level`` defaults to the ``wsrpc`` logger's level)
    and that level as a ``logging`` level, for the binding's own records."""
    if options.get("log_level") is None:
        options = {**options, "log_level": _logging.default_log_level()}
    return _dumps(options), _logging.level_of(options["log_level"])


def _stats(get: Callable[[c_void_p, Error], int]) -> Dict[str, int]:
    out, err = c_void_p(), Error()
    _check(get(out, err), err)
    return dict(json.loads(_lib.take_string(out)))


def library_version() -> str:
    """Version of the loaded libwsrpc."""
    return lib.wsrpc_version().decode()


JSON = Union[None, bool, int, float, str, List[Any], Dict[str, Any]]
