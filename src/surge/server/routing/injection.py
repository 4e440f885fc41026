"""Handler adaptation at registration time, so the request path pays nothing per call.

- ``async def h(request)``: used as is.
- a class view (``web.View`` subclass): used as is; ``View(request)`` is awaitable.
- a plain function (``lambda r: web.Response(...)``): its result is awaited when awaitable.
- ``async def h(request, match_info)`` or ``async def h(request, user_id)``: parameters after
  the request are filled by name from ``request.match_info`` (the whole mapping for
  ``match_info``, one path parameter otherwise; ``request`` and ``app`` are also known).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, cast

__all__ = ["wrap_handler"]

Handler = Callable[..., Awaitable[Any]]
_MISSING = inspect.Parameter.empty


def wrap_handler(handler: Any) -> Handler:
    if inspect.isclass(handler):
        return cast(Handler, handler)
    params = _injectable_params(handler)
    is_coro = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - a callable object
    )
    if not params:
        if is_coro:
            return handler  # type: ignore[no-any-return]
        return _sync_adapter(handler)
    return _injecting_adapter(handler, params, is_coro)


def _injectable_params(handler: Any) -> list[inspect.Parameter]:
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return []
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if len(positional) <= 1:
        return []
    return [p for p in positional[1:] if p.default is _MISSING or p.kind is p.KEYWORD_ONLY]


def _sync_adapter(handler: Callable[..., Any]) -> Handler:
    @functools.wraps(handler)
    async def adapter(request: Any) -> Any:
        result = handler(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    return adapter


def _injecting_adapter(
    handler: Callable[..., Any], params: list[inspect.Parameter], is_coro: bool
) -> Handler:
    names = [(p.name, p.kind is p.KEYWORD_ONLY, p.default) for p in params]

    def resolve(request: Any, name: str, default: Any) -> Any:
        match_info = request.match_info
        if name == "match_info":
            return match_info
        if name in match_info:
            return match_info[name]
        if name == "request":
            return request
        if name == "app":
            return request.app
        if default is not _MISSING:
            return default
        raise TypeError(
            f"Handler {handler.__qualname__} asks for {name!r}, which the route does not provide"
        )

    @functools.wraps(handler)
    async def adapter(request: Any) -> Any:
        args = []
        kwargs = {}
        for name, kw_only, default in names:
            value = resolve(request, name, default)
            if kw_only:
                kwargs[name] = value
            else:
                args.append(value)
        result = handler(request, *args, **kwargs)
        if not is_coro and not inspect.isawaitable(result):
            return result
        return await result

    return adapter
