"""The ``Date`` header line, formatted once per second."""

from __future__ import annotations

import time
from email.utils import formatdate

__all__ = ["date_header_line", "http_date_now"]

_second = 0
_value = ""
_line = ""


def _refresh(now: int) -> None:
    global _second, _value, _line
    _second = now
    _value = formatdate(now, usegmt=True)
    _line = f"Date: {_value}\r\n"


def http_date_now() -> str:
    """The current time as an HTTP date (``Tue, 24 Nov 2026 01:56:02 GMT``)."""
    now = int(time.time())
    if now != _second:
        _refresh(now)
    return _value


def date_header_line() -> str:
    """``"Date: <now>\\r\\n"``, ready to append to a response head."""
    now = int(time.time())
    if now != _second:
        _refresh(now)
    return _line
