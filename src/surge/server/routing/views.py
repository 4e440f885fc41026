"""Class-based views: ``class ItemView(web.View)`` with one coroutine method per HTTP method.

Register with ``router.add_view('/items', ItemView)`` (every method goes to the view), a
``RouteTableDef``'s ``@routes.view('/items')``, or the spec's ``@web.view('/items')``. The
router calls ``ItemView(request)`` and awaits it; that dispatches to ``get``/``post``/... by the
request's method, and a method the class lacks is a 405 listing the methods it has.
"""

from __future__ import annotations

import abc
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, NoReturn

from surge import hdrs

if TYPE_CHECKING:
    from surge.server.request import Request
    from surge.server.response import StreamResponse

__all__ = ["AbstractView", "View"]


class AbstractView(abc.ABC):
    """A view built per request; awaiting it produces the response."""

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def request(self) -> Request:
        """The request being handled."""
        return self._request

    @abc.abstractmethod
    def __await__(self) -> Generator[Any, None, StreamResponse]: ...


class View(AbstractView):
    """Dispatch on the request method: ``async def get(self): ...`` answers GET."""

    async def _dispatch(self) -> StreamResponse:
        method = self.request.method
        handler = getattr(self, method.lower(), None) if method in hdrs.METH_ALL else None
        if handler is None:
            self._raise_allowed_methods()
        response: StreamResponse = await handler()
        return response

    def __await__(self) -> Generator[Any, None, StreamResponse]:
        return self._dispatch().__await__()

    def _raise_allowed_methods(self) -> NoReturn:
        from surge.server.exceptions import HTTPMethodNotAllowed

        allowed = {m for m in hdrs.METH_ALL if hasattr(self, m.lower())}
        raise HTTPMethodNotAllowed(self.request.method, allowed)
