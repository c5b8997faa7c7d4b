"""The library's log records into Python's ``logging`` (logger ``wsrpc``). Internal.

libwsrpc hands every record that passes an object's level (its ``log_level`` option) to
the process's log handler (wsrpc_set_log_handler); this module installs one that turns the
record into a ``logging`` record of the ``wsrpc`` logger, with the attributes appended to
the message as ``key=value`` and kept as a dict in the record's ``wsrpc_attrs``.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

from ._lib import LOG_FN, lib

logger = logging.getLogger("wsrpc")

# The library's levels are Go's log/slog levels: debug -4, info 0, warn 4, error 8.
_LEVEL_NAMES = ("debug", "info", "warn", "error")


def python_level(slog_level: int) -> int:
    """slog level -> logging level (debug -4 -> 10, info 0 -> 20, warn 4 -> 30, error 8 -> 40)."""
    return max(logging.DEBUG, min(logging.CRITICAL, 20 + (slog_level * 5) // 2))


def default_log_level() -> str:
    """The ``log_level`` option matching the ``wsrpc`` logger's effective level, so that
    records Python would drop are not even made."""
    if logger.disabled:
        return "off"
    level = logger.getEffectiveLevel()
    for name, limit in zip(_LEVEL_NAMES, (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)):
        if level <= limit:
            return name
    return "off"


def level_of(name: Any) -> int:
    """A ``log_level`` option as a ``logging`` level (unknown names: the library refuses them)."""
    levels = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
              "warning": logging.WARNING, "error": logging.ERROR}
    return levels.get(str(name).lower(), logging.CRITICAL + 1)


def _format(message: str, attrs: Dict[str, Any]) -> str:
    if not attrs:
        return message
    parts = [message]
    for k, v in attrs.items():
        text = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        parts.append(f"{k}={json.dumps(text) if (' ' in text or not text) else text}")
    return " ".join(parts)


@LOG_FN
def _on_log(_user: Optional[int], level: int, message: Optional[bytes], attrs_json: Optional[bytes]) -> None:
    try:
        pylevel = python_level(level)
        if not logger.isEnabledFor(pylevel):
            return
        msg = (message or b"").decode("utf-8", "replace")
        try:
            attrs = json.loads(attrs_json or b"{}")
        except ValueError:
            attrs = {}
        logger.log(pylevel, "%s", _format(msg, attrs), extra={"wsrpc_attrs": attrs})
    except BaseException:  # noqa: BLE001 - never let anything unwind into the library
        pass


def install() -> None:
    lib.wsrpc_set_log_handler(_on_log, None)


def uninstall() -> None:
    """Back to stderr (at interpreter exit: no Python callback may run after that)."""
    lib.wsrpc_set_log_handler(LOG_FN(), None)
