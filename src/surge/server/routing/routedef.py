"""Route definitions: ``web.RouteTableDef``, ``web.get('/path', handler)``... and decorator routes.

``web.get('/x', handler)`` builds a :class:`RouteDef` for ``app.add_routes([...])``, as in
aiohttp. surge adds the spec's decorator form: called with the path only, ``@web.get('/x')``
or ``@web.view('/items')`` returns a decorator that leaves the function or class unchanged
and records the route in a table kept per module (the module where the decorator is written).
An ``Application`` remembers the module that created it and, when it is frozen (at startup),
registers the decorator routes of that module::

    app = web.Application()

    @web.view('/items')
    class ItemView(web.View):
        async def get(self):
            return web.json_response({"items": []})

An app created in another module does not get these routes.
"""

from __future__ import annotations

import abc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from surge import hdrs

if TYPE_CHECKING:
    from surge.server.routing.resources import AbstractRoute
    from surge.server.routing.router import UrlDispatcher

__all__ = [
    "AbstractRouteDef",
    "RouteDef",
    "RouteTableDef",
    "StaticDef",
    "delete",
    "get",
    "head",
    "module_routes",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "static",
    "view",
]

_H = TypeVar("_H", bound=Callable[..., Any])


class AbstractRouteDef(abc.ABC):
    """Something ``router.add_routes`` can register."""

    @abc.abstractmethod
    def register(self, router: UrlDispatcher) -> list[AbstractRoute]: ...


@dataclass(frozen=True, repr=False)
class RouteDef(AbstractRouteDef):
    """A route to register: method, path, handler and ``add_route`` keyword arguments."""

    method: str
    path: str
    handler: Any
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        info = "".join(f", {key}={value!r}" for key, value in sorted(self.kwargs.items()))
        name = getattr(self.handler, "__name__", repr(self.handler))
        return f"<RouteDef {self.method} {self.path} -> {name!r}{info}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        add = getattr(router, "add_" + self.method.lower(), None)
        if self.method in hdrs.METH_ALL and add is not None:
            return [add(self.path, self.handler, **self.kwargs)]
        return [router.add_route(self.method, self.path, self.handler, **self.kwargs)]


@dataclass(frozen=True, repr=False)
class StaticDef(AbstractRouteDef):
    """A static directory to register with ``router.add_static(prefix, path, **kwargs)``."""

    prefix: str
    path: str | os.PathLike[str]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        info = "".join(f", {key}={value!r}" for key, value in sorted(self.kwargs.items()))
        return f"<StaticDef {self.prefix} -> {self.path}{info}>"

    def register(self, router: UrlDispatcher) -> list[AbstractRoute]:
        resource = router.add_static(self.prefix, self.path, **self.kwargs)
        return list(resource)


class RouteTableDef(Sequence[AbstractRouteDef]):
    """A list of routes built with decorators: ``routes = web.RouteTableDef()``.

    ``@routes.get('/path')`` records the handler; ``app.add_routes(routes)`` registers them.
    """

    def __init__(self) -> None:
        self._items: list[AbstractRouteDef] = []

    def __repr__(self) -> str:
        return f"<RouteTableDef count={len(self._items)}>"

    @overload
    def __getitem__(self, index: int) -> AbstractRouteDef: ...
    @overload
    def __getitem__(self, index: slice) -> list[AbstractRouteDef]: ...
    def __getitem__(self, index: int | slice) -> AbstractRouteDef | list[AbstractRouteDef]:
        return self._items[index]

    def __iter__(self) -> Iterator[AbstractRouteDef]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def route(self, method: str, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        def decorator(handler: _H) -> _H:
            self._items.append(RouteDef(method, path, handler, kwargs))
            return handler

        return decorator

    def head(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_HEAD, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_GET, path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_POST, path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_PUT, path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_PATCH, path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_DELETE, path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_OPTIONS, path, **kwargs)

    def view(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(hdrs.METH_ANY, path, **kwargs)

    def static(self, prefix: str, path: str | os.PathLike[str], **kwargs: Any) -> None:
        self._items.append(StaticDef(prefix, path, kwargs))


# Decorator routes, by the name of the module where the decorator was written.
_MODULE_TABLES: dict[str, RouteTableDef] = {}


def module_routes(module: str | None) -> RouteTableDef | None:
    """The decorator routes declared in ``module`` (``None`` when there are none)."""
    if module is None:
        return None
    return _MODULE_TABLES.get(module)


def _caller_module(depth: int) -> str:
    name = sys._getframe(depth + 1).f_globals.get("__name__", "__main__")
    return name if isinstance(name, str) else "__main__"


def _definition(method: str, path: str, handler: Any, kwargs: dict[str, Any]) -> Any:
    if handler is not None:
        return RouteDef(method, path, handler, kwargs)
    table = _MODULE_TABLES.setdefault(_caller_module(2), RouteTableDef())
    return table.route(method, path, **kwargs)


def route(method: str, path: str, handler: Any = None, **kwargs: Any) -> Any:
    """``web.route('GET', '/path', handler)``; without a handler, a module decorator route."""
    return _definition(method, path, handler, kwargs)


def head(path: str, handler: Any = None, **kwargs: Any) -> Any:
    return _definition(hdrs.METH_HEAD, path, handler, kwargs)


def options(path: str, handler: Any = None, **kwargs: Any) -> Any:
    return _definition(hdrs.METH_OPTIONS, path, handler, kwargs)


def get(
    path: str,
    handler: Any = None,
    *,
    name: str | None = None,
    allow_head: bool = True,
    **kwargs: Any,
) -> Any:
    """``web.get('/path', handler)`` (GET, and HEAD unless ``allow_head=False``).

    Without a handler, ``@web.get('/path')`` is a decorator route of the calling module.
    """
    return _definition(
        hdrs.METH_GET, path, handler, {"name": name, "allow_head": allow_head, **kwargs}
    )


def post(path: str, handler: Any = None, **kwargs: Any) -> Any:
    return _definition(hdrs.METH_POST, path, handler, kwargs)


def put(path: str, handler: Any = None, **kwargs: Any) -> Any:
    return _definition(hdrs.METH_PUT, path, handler, kwargs)


def patch(path: str, handler: Any = None, **kwargs: Any) -> Any:
    return _definition(hdrs.METH_PATCH, path, handler, kwargs)


def delete(path: str, handler: Any = None, **kwargs: Any) -> Any:
    return _definition(hdrs.METH_DELETE, path, handler, kwargs)


def view(path: str, handler: Any = None, **kwargs: Any) -> Any:
    """``web.view('/path', View)``; ``@web.view('/items')`` on a class is a decorator route."""
    return _definition(hdrs.METH_ANY, path, handler, kwargs)


def static(prefix: str, path: str | os.PathLike[str], **kwargs: Any) -> StaticDef:
    """``web.static('/static', directory)``: a :class:`StaticDef` for ``add_routes``."""
    return StaticDef(prefix, path, kwargs)
