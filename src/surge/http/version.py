"""HTTP versions as ``HttpVersion(major, minor)``: a named tuple, equal to a plain tuple."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["HttpVersion", "HttpVersion10", "HttpVersion11", "HttpVersion20"]


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)
HttpVersion20 = HttpVersion(2, 0)
