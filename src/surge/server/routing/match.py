"""The result of routing a request: path parameters plus the matched route and app chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from surge.server.app import Application
    from surge.server.exceptions import HTTPException
    from surge.server.routing.resources import AbstractRoute

__all__ = ["MatchInfoError", "UrlMappingMatchInfo", "match_info"]


class UrlMappingMatchInfo(dict[str, Any]):
    """``request.match_info``: a dict of path parameters with ``route``, ``handler``, ``apps``."""

    # One is made per request: the defaults live on the class, so making one (see
    # ``match_info``) costs the parameters' copy and one attribute store.
    _apps: tuple[Application, ...] = ()
    _current_app: Application | None = None
    _frozen = False
    _prepare_signals: tuple[Any, ...] = ()

    def __init__(self, match_dict: dict[str, Any], route: AbstractRoute) -> None:
        super().__init__(match_dict)
        self._route = route

    @property
    def handler(self) -> Callable[..., Awaitable[Any]]:
        return self._route.handler

    @property
    def route(self) -> AbstractRoute:
        return self._route

    @property
    def expect_handler(self) -> Callable[..., Awaitable[Any]]:
        return self._route.handle_expect_header

    @property
    def http_exception(self) -> HTTPException | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return self._route.get_info()

    @property
    def apps(self) -> tuple[Application, ...]:
        return self._apps

    def add_app(self, app: Application) -> None:
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        if self._current_app is None:
            self._current_app = app
        self._apps = (app, *self._apps)

    @property
    def current_app(self) -> Application:
        assert self._current_app is not None
        return self._current_app

    @current_app.setter
    def current_app(self, app: Application) -> None:
        if app not in self._apps:
            raise RuntimeError(f"Expected one of the following apps {self._apps!r}, got {app!r}")
        self._current_app = app

    def freeze(self) -> None:
        self._frozen = True
        self._prepare_signals = tuple(
            app.on_response_prepare for app in self._apps if app.on_response_prepare
        )

    def __repr__(self) -> str:
        return f"<MatchInfo {super().__repr__()}: {self._route}>"


def match_info(params: dict[str, Any] | None, route: AbstractRoute) -> UrlMappingMatchInfo:
    """``UrlMappingMatchInfo(params, route)`` without the Python-level ``__init__`` call."""
    info = _new_dict(UrlMappingMatchInfo)
    if params:
        info.update(params)
    info._route = route
    return info


_new_dict = dict.__new__


class MatchInfoError(UrlMappingMatchInfo):
    """Match info of a request no route matched: its handler raises the HTTP error."""

    def __init__(self, http_exception: HTTPException) -> None:
        from surge.server.routing.resources import SystemRoute

        self._exception = http_exception
        super().__init__({}, SystemRoute(http_exception))

    @property
    def http_exception(self) -> HTTPException:
        return self._exception

    def __repr__(self) -> str:
        return f"<MatchInfoError {self._exception.status}: {self._exception.reason}>"
