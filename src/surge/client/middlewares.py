"""Client middlewares (aiohttp 3.12 style): ``async def mw(request, handler) -> ClientResponse``.

The chain is built once (per session, or per request when ``middlewares=`` is given) as linked
callables; it wraps each hop, so a redirect passes through it again. A middleware may change
``request`` (headers, url) before calling ``handler``, call it again (retry, auth challenge), or
answer without calling it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from surge.client.request import ClientRequest
from surge.client.response import ClientResponse

__all__ = ["ClientHandlerType", "ClientMiddlewareType", "build_chain"]

ClientHandlerType = Callable[[ClientRequest], Awaitable[ClientResponse]]
ClientMiddlewareType = Callable[[ClientRequest, ClientHandlerType], Awaitable[ClientResponse]]


class _Link:
    """One middleware bound to the rest of the chain (no closure per request)."""

    __slots__ = ("_middleware", "_next")

    def __init__(self, middleware: ClientMiddlewareType, nxt: ClientHandlerType) -> None:
        self._middleware = middleware
        self._next = nxt

    def __call__(self, request: ClientRequest) -> Awaitable[ClientResponse]:
        return self._middleware(request, self._next)


def build_chain(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """``handler`` wrapped by ``middlewares``, the first one outermost."""
    for middleware in reversed(middlewares):
        if not callable(middleware):
            raise TypeError(f"middleware {middleware!r} is not callable")
        handler = _Link(middleware, handler)
    return handler
