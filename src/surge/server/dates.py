"""The ``Date`` header value, formatted once per second."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

_cache: list[Any] = [0, ""]  # [second, formatted]


def http_date_now() -> str:
    now = int(time.time())
    if now != _cache[0]:
        _cache[0] = now
        _cache[1] = formatdate(now, usegmt=True)
    return str(_cache[1])
