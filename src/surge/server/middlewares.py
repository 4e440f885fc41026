"""The ``@web.middleware`` marker and built-in middlewares."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from yarl import URL

from surge.server.exceptions import HTTPPermanentRedirect, _HTTPMove
from surge.server.routing.resources import SystemRoute

if TYPE_CHECKING:
    from surge.server.request import Request
    from surge.server.response import StreamResponse

__all__ = ["middleware", "normalize_path_middleware"]

_F = TypeVar("_F", bound=Callable[..., Any])
_Handler = Callable[["Request"], Awaitable["StreamResponse"]]
_SLASHES = re.compile(r"//+")
_LEADING_SLASHES = re.compile(r"^//+")


def middleware(func: _F) -> _F:
    """Mark ``async def mw(request, handler)`` as a new-style middleware (optional)."""
    func.__middleware_version__ = 1  # type: ignore[attr-defined]
    return func


def normalize_path_middleware(
    *,
    append_slash: bool = True,
    remove_slash: bool = False,
    merge_slashes: bool = True,
    redirect_class: type[_HTTPMove] = HTTPPermanentRedirect,
) -> Callable[[Request, _Handler], Awaitable[StreamResponse]]:
    """A middleware redirecting an unroutable path to a normalised one that routes.

    It acts only when routing failed (404/405). It tries, in order: the path with repeated
    slashes merged, the path with a trailing slash added (``append_slash``) or removed
    (``remove_slash``), then both; the first that resolves is the redirect target
    (``redirect_class``, 308 by default), with the query string kept. ``append_slash`` and
    ``remove_slash`` cannot both be set.
    """
    if append_slash and remove_slash:
        # aiohttp signals this with an AssertionError; keep the type, but not as an `assert`.
        raise AssertionError("Cannot both remove and append slash")

    @middleware
    async def normalize_path(request: Request, handler: _Handler) -> StreamResponse:
        match_info = request.match_info
        if not isinstance(match_info.route, SystemRoute):
            return await handler(request)
        path, sep, query = request.raw_path.partition("?")
        query = sep + query
        candidates: list[str] = []
        if merge_slashes:
            candidates.append(_SLASHES.sub("/", path))
        if append_slash and not path.endswith("/"):
            candidates.append(path + "/")
        if remove_slash and path.endswith("/"):
            candidates.append(path[:-1])
        if merge_slashes and append_slash:
            candidates.append(_SLASHES.sub("/", path + "/"))
        if merge_slashes and remove_slash and path.endswith("/"):
            candidates.append(_SLASHES.sub("/", path)[:-1])
        router = match_info.apps[0].router if match_info.apps else request.app.router
        for candidate in candidates:
            # Never redirect to "//host/..." (a scheme-relative URL pointing elsewhere).
            candidate = _LEADING_SLASHES.sub("/", candidate)
            if not candidate or candidate == path:
                continue
            decoded = URL.build(path=candidate, encoded=True).path
            alt = router.resolve_path(request.method, decoded, request)
            if alt.http_exception is None:
                raise redirect_class(candidate + query)
        return await handler(request)

    return normalize_path
