"""An application's middleware list and the links of the chains built from it.

The list refuses changes once the application is frozen; a chain (built once per route and
set of apps, see ``Application._chain_for``) is a handler wrapped in one ``_Next`` per
middleware, outermost first.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from surge.server.request import Request
    from surge.server.response import StreamResponse

__all__ = ["Handler", "Middleware"]

Handler = Callable[["Request"], Awaitable["StreamResponse"]]
Middleware = Callable[["Request", Handler], Awaitable["StreamResponse"]]


class _Next:
    """One link of a middleware chain: ``mw(request, next_handler)``."""

    __slots__ = ("_handler", "_middleware")

    def __init__(self, middleware: Middleware, handler: Handler) -> None:
        self._middleware = middleware
        self._handler = handler

    def __call__(self, request: Request) -> Awaitable[StreamResponse]:
        return self._middleware(request, self._handler)


class _MiddlewareList(list[Middleware]):
    def __init__(self, items: Sequence[Middleware] = ()) -> None:
        super().__init__()
        self._frozen = False
        for item in items:
            self.append(item)

    def freeze(self) -> None:
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    def append(self, item: Middleware) -> None:
        self._check()
        if getattr(item, "__middleware_version__", 1) != 1:
            warnings.warn(f"old-style middleware {item!r}", DeprecationWarning, stacklevel=2)
        super().append(item)

    def extend(self, items: Any) -> None:
        for item in items:
            self.append(item)

    def insert(self, index: Any, item: Middleware) -> None:
        self._check()
        super().insert(index, item)

    def remove(self, item: Middleware) -> None:
        self._check()
        super().remove(item)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self._check()
        super().__delitem__(index)

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)
