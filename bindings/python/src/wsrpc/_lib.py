"""ctypes declarations of libwsrpc's C API (wsrpc.h). Internal."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_void_p
from pathlib import Path
from typing import Optional

LIBRARY_NAME = "libwsrpc.so"


class Error(Structure):
    """struct wsrpc_error; message/data_json are library-allocated (wsrpc_error_clear)."""

    _fields_ = [
        ("status", c_int),
        ("rpc_code", c_int),
        ("message", c_void_p),
        ("data_json", c_void_p),
    ]


class Event(Structure):
    """struct wsrpc_event; valid only during the callback."""

    _fields_ = [
        ("kind", c_int),
        ("channel_id", c_char_p),
        ("attempt", c_int),
        ("delay_ms", c_int),
        ("status", c_int),
        ("message", c_char_p),
    ]


METHOD_FN = CFUNCTYPE(None, c_void_p, c_char_p, c_char_p, c_void_p)
EVENT_FN = CFUNCTYPE(None, c_void_p, POINTER(Event))
DONE_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p, POINTER(Error))
LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_char_p)

PENDING = 15  # WSRPC_PENDING: wsrpc_call_wait's "not finished yet"
CANCELED = 17  # WSRPC_ERR_CANCELED
BATCH_SPLIT = 1  # WSRPC_BATCH_SPLIT
INT_MAX = 2**31 - 1  # the C API's timeouts are C ints (milliseconds)


def _candidates() -> list[Path]:
    here = Path(__file__).resolve().parent
    out: list[Path] = []
    env = os.environ.get("WSRPC_LIBRARY")
    if env:
        out.append(Path(env))
    out.append(here / LIBRARY_NAME)  # bundled by the wheel
    # running from the source tree: bindings/python/src/wsrpc -> <repo>/build
    out.append(here.parents[3] / "build" / LIBRARY_NAME if len(here.parents) > 3 else here)
    return out


def _load() -> ctypes.CDLL:
    tried = []
    for p in _candidates():
        if p.is_file():
            # CDLL (not PyDLL): the GIL is released during every call, so the library's
            # threads can run Python callbacks while a call blocks.
            return ctypes.CDLL(str(p))
        tried.append(str(p))
    found = ctypes.util.find_library("wsrpc")
    if found:
        return ctypes.CDLL(found)
    raise OSError(
        "wsrpc: cannot find libwsrpc.so (looked in: " + ", ".join(tried) + "); "
        "build it with `make build` and reinstall, or set WSRPC_LIBRARY")


lib = _load()

_h = c_void_p
_s = c_char_p
_e = POINTER(Error)
_out = POINTER(c_void_p)

_signatures: dict[str, tuple[Optional[type], list]] = {
    "wsrpc_version": (c_char_p, []),
    "wsrpc_free": (None, [c_void_p]),
    "wsrpc_error_clear": (None, [_e]),
    "wsrpc_status_name": (c_char_p, [c_int]),
    "wsrpc_client_new": (_h, [_s, _e]),
    "wsrpc_client_register": (c_int, [_h, _s, METHOD_FN, c_void_p, _e]),
    "wsrpc_client_on_event": (c_int, [_h, EVENT_FN, c_void_p, _e]),
    "wsrpc_client_connect": (c_int, [_h, _s, c_int, _e]),
    "wsrpc_client_call": (c_int, [_h, _s, _s, c_int, _out, _e]),
    "wsrpc_client_call_async": (c_int, [_h, _s, _s, c_int, DONE_FN, c_void_p, _e]),
    "wsrpc_client_notify": (c_int, [_h, _s, _s, _e]),
    "wsrpc_client_channel_id": (c_int, [_h, _out, _e]),
    "wsrpc_client_close": (c_int, [_h, _e]),
    "wsrpc_reply_result": (c_int, [c_void_p, _s]),
    "wsrpc_reply_error": (c_int, [c_void_p, c_int, _s, _s]),
    "wsrpc_reply_fail": (c_int, [c_void_p, _s]),
    "wsrpc_server_new": (_h, [_s, _e]),
    "wsrpc_server_register": (c_int, [_h, _s, METHOD_FN, c_void_p, _e]),
    "wsrpc_server_on_event": (c_int, [_h, EVENT_FN, c_void_p, _e]),
    "wsrpc_server_listen": (c_int, [_h, _s, _s, _out, _e]),
    "wsrpc_server_channels": (c_int, [_h, _out, _e]),
    "wsrpc_server_call": (c_int, [_h, _s, _s, _s, c_int, _out, _e]),
    "wsrpc_server_call_async": (c_int, [_h, _s, _s, _s, c_int, DONE_FN, c_void_p, _e]),
    "wsrpc_server_notify": (c_int, [_h, _s, _s, _s, _e]),
    "wsrpc_server_close": (c_int, [_h, _e]),
    "wsrpc_client_call_start": (c_int, [_h, _s, _s, c_int, _out, _e]),
    "wsrpc_server_call_start": (c_int, [_h, _s, _s, _s, c_int, _out, _e]),
    "wsrpc_call_wait": (c_int, [c_void_p, c_int, _out, _e]),
    "wsrpc_call_release": (c_int, [c_void_p]),
    "wsrpc_set_log_handler": (c_int, [LOG_FN, c_void_p]),
    "wsrpc_call_cancel": (c_int, [c_void_p]),
    "wsrpc_client_call_async_cancelable": (c_int, [_h, _s, _s, c_int, DONE_FN, c_void_p, _out, _e]),
    "wsrpc_server_call_async_cancelable": (c_int, [_h, _s, _s, _s, c_int, DONE_FN, c_void_p, _out, _e]),
    "wsrpc_call_on_done": (c_int, [c_void_p, DONE_FN, c_void_p, _e]),
    "wsrpc_reply_check": (c_int, [c_void_p]),
    "wsrpc_client_batch_new": (_h, [_h, c_int, _e]),
    "wsrpc_server_batch_new": (_h, [_h, _s, c_int, _e]),
    "wsrpc_batch_call": (c_int, [_h, _s, _s, POINTER(c_int), _e]),
    "wsrpc_batch_notify": (c_int, [_h, _s, _s, _e]),
    "wsrpc_batch_send": (c_int, [_h, c_int, _e]),
    "wsrpc_batch_wait": (c_int, [_h, c_int, _e]),
    "wsrpc_batch_on_done": (c_int, [_h, DONE_FN, c_void_p, _e]),
    "wsrpc_batch_result": (c_int, [_h, c_int, _out, _e]),
    "wsrpc_batch_free": (c_int, [_h]),
    "wsrpc_client_stats": (c_int, [_h, _out, _e]),
    "wsrpc_server_stats": (c_int, [_h, _out, _e]),
}

for _name, (_res, _args) in _signatures.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args


def take_string(ptr: c_void_p) -> str:
    """Copy a library-allocated string and free it."""
    if not ptr.value:
        return ""
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib.wsrpc_free(ptr)
