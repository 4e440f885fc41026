"""The ``@web.middleware`` marker and built-in middlewares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["middleware"]

_F = TypeVar("_F", bound=Callable[..., Any])


def middleware(func: _F) -> _F:
    """Mark ``async def mw(request, handler)`` as a new-style middleware (optional)."""
    func.__middleware_version__ = 1  # type: ignore[attr-defined]
    return func
