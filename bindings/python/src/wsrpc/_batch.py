"""Batch: JSON-RPC 2.0 batches over the C API's wsrpc_batch. Internal; import from ``wsrpc``."""
from __future__ import annotations

import asyncio
import threading
from ctypes import byref, c_void_p
from typing import Any, Callable, List, Optional, Tuple

from . import _lib
from ._core import (_SLICE_MS, _check, _decode, _encode_params, _exception, _keys, _method_name,
                    _on_done, _pending, _pending_lock, _raise, _timeout_ms)
from ._lib import BATCH_SPLIT, PENDING, Error, lib
from .errors import InvalidArgument, StateError, WsRpcError

_NOT_YET = object()


class BatchEntry:
    """A call of a batch. Once the batch is sent and answered, ``result()`` returns the call's
    result or raises its error (RpcError for the peer's error answer, BatchUnsupported,
    Timeout...)."""

    __slots__ = ("method", "_value", "_exc")

    def __init__(self, method: str) -> None:
        self.method = method
        self._value: Any = _NOT_YET
        self._exc: Optional[WsRpcError] = None

    @property
    def done(self) -> bool:
        """Whether the entry has its outcome (the batch was sent and the call has ended)."""
        return self._value is not _NOT_YET or self._exc is not None

    def result(self) -> Any:
        """The call's result; raises the call's error, or StateError before it has ended."""
        if self._exc is not None:
            raise self._exc
        if self._value is _NOT_YET:
            raise StateError(f"wsrpc: the batch entry {self.method!r} has no outcome yet (send the batch)")
        return self._value

    def exception(self) -> Optional[WsRpcError]:
        """The call's error, or None when it succeeded (StateError before it has ended)."""
        if not self.done:
            raise StateError(f"wsrpc: the batch entry {self.method!r} has no outcome yet (send the batch)")
        return self._exc

    def __repr__(self) -> str:
        if not self.done:
            return f"<wsrpc.BatchEntry {self.method} pending>"
        return f"<wsrpc.BatchEntry {self.method} {'error ' + repr(self._exc) if self._exc else 'ok'}>"


class Batch:
    """A JSON-RPC 2.0 batch (``Client.batch()``, ``Server.batch(channel_id)``): ``call`` and
    ``notify`` add entries, ``send()`` / ``await asend()`` send them in one message and wait
    for every call; a wsrpc peer runs them concurrently and answers in one message. Used as
    a context manager (``with`` / ``async with``) it is sent when the block ends without an
    exception. A batch is sent once. Not thread-safe: build and send it from one thread."""

    def __init__(self, new: Callable[[int, Error], Any], split: bool) -> None:
        self._new = new
        self._split = bool(split)
        self._entries: List[Tuple[bool, bytes, Optional[bytes], Optional[BatchEntry]]] = []
        self._sent = False

    def call(self, method: str, /, *args: Any, **kwargs: Any) -> BatchEntry:
        """Add a call (params as for ``Client.call``); its entry gives the outcome once sent."""
        entry = BatchEntry(method)
        self._add(True, method, args, kwargs, entry)
        return entry

    def notify(self, method: str, /, *args: Any, **kwargs: Any) -> None:
        """Add a notification (no answer)."""
        self._add(False, method, args, kwargs, None)

    def _add(self, call: bool, method: str, args: tuple, kwargs: dict, entry: Optional[BatchEntry]) -> None:
        if self._sent:
            raise StateError("wsrpc: batch is sent already")
        self._entries.append((call, _method_name(method), _encode_params(args, kwargs), entry))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def calls(self) -> List[BatchEntry]:
        """The entries of the calls, in the order they were added."""
        return [e for call, _, _, e in self._entries if call and e is not None]

    def _start(self, timeout: Optional[float]) -> int:
        """Build the C batch and send it; returns its handle (free it)."""
        if self._sent:
            raise StateError("wsrpc: batch is sent already")
        if not self._entries:
            raise InvalidArgument("wsrpc: empty batch")
        ms = _timeout_ms(timeout)
        err = Error()
        h = self._new(BATCH_SPLIT if self._split else 0, err)
        if not h:
            _raise(err)
        self._sent = True
        try:
            for call, name, params, _ in self._entries:
                if call:
                    _check(lib.wsrpc_batch_call(h, name, params, None, byref(err)), err)
                else:
                    _check(lib.wsrpc_batch_notify(h, name, params, byref(err)), err)
            if lib.wsrpc_batch_send(h, ms, byref(err)) != 0:
                # Nothing was sent, and every call ended with this error: their entries say so.
                lib.wsrpc_error_clear(byref(err))
        except BaseException:
            lib.wsrpc_batch_free(h)
            raise
        return h

    def _collect(self, h: int) -> List[BatchEntry]:
        for i, (call, _, _, entry) in enumerate(self._entries):
            if not call or entry is None:
                continue
            out, err = c_void_p(), Error()
            if lib.wsrpc_batch_result(h, i, byref(out), byref(err)) == 0:
                entry._value = _decode(_lib.take_string(out))
            else:
                entry._exc = _exception(err)
        return self.calls

    def send(self, _timeout: Optional[float] = None) -> List[BatchEntry]:
        """Send the batch and wait until every call has ended; returns the calls' entries.
        ``_timeout`` (seconds) bounds the wait for the answers (default: the
        ``default_response_timeout`` option); calls unanswered by then end with Timeout and
        are cancelled on a wsrpc peer. Ctrl-C interrupts the wait (and cancels them too)."""
        h = self._start(_timeout)
        try:
            wait_ms = _SLICE_MS if threading.current_thread() is threading.main_thread() else -1
            err = Error()
            status = lib.wsrpc_batch_wait(h, wait_ms, byref(err))
            while status == PENDING:
                status = lib.wsrpc_batch_wait(h, wait_ms, byref(err))
            _check(status, err)
            return self._collect(h)
        finally:
            lib.wsrpc_batch_free(h)  # (gives up the calls still unanswered)

    async def asend(self, _timeout: Optional[float] = None) -> List[BatchEntry]:
        """``send`` for asyncio. Cancelling the task cancels the calls still unanswered."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def ended() -> None:
            if not fut.done():
                fut.set_result(None)

        def complete(_result: Optional[str], _exc: Optional[WsRpcError]) -> None:
            try:
                loop.call_soon_threadsafe(ended)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass

        h = self._start(_timeout)
        try:
            key = next(_keys)
            with _pending_lock:
                _pending[key] = complete
            err = Error()
            if lib.wsrpc_batch_on_done(h, _on_done, c_void_p(key), byref(err)) != 0:
                with _pending_lock:
                    _pending.pop(key, None)
                _raise(err)
            await fut
            return self._collect(h)
        finally:
            lib.wsrpc_batch_free(h)

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and not self._sent:
            self.send()

    async def __aenter__(self) -> "Batch":
        return self

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None and not self._sent:
            await self.asend()

    def __repr__(self) -> str:
        return f"<wsrpc.Batch {len(self._entries)} entries{' sent' if self._sent else ''}>"
