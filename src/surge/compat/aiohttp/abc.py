"""``aiohttp.abc`` on surge: the abstract interfaces, with surge's classes registered as their
implementations (``isinstance(app.router, AbstractRouter)`` holds)."""

from __future__ import annotations

import abc
from typing import Any

from surge.client.cookiejar import AbstractCookieJar
from surge.client.resolver import ResolveResult, ThreadedResolver
from surge.server.access_log import AbstractAccessLogger
from surge.server.routing.match import UrlMappingMatchInfo
from surge.server.routing.router import UrlDispatcher
from surge.server.routing.views import AbstractView

__all__ = [
    "AbstractAccessLogger",
    "AbstractCookieJar",
    "AbstractMatchInfo",
    "AbstractResolver",
    "AbstractRouter",
    "AbstractStreamWriter",
    "AbstractView",
    "ResolveResult",
]


class AbstractRouter(abc.ABC):
    """Resolves a request to match info (``UrlDispatcher`` is one)."""

    @abc.abstractmethod
    async def resolve(self, request: Any) -> Any: ...


class AbstractMatchInfo(abc.ABC):
    """The result of routing: the handler and the path parameters."""

    @property
    @abc.abstractmethod
    def handler(self) -> Any: ...


class AbstractResolver(abc.ABC):
    """Host name resolution: ``await resolve(host, port, family)`` gives ``ResolveResult``s."""

    @abc.abstractmethod
    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]: ...

    @abc.abstractmethod
    async def close(self) -> None: ...


class AbstractStreamWriter(abc.ABC):
    """Where a response body goes: ``write``, ``write_eof``, ``drain``."""

    buffer_size: int = 0
    output_size: int = 0
    length: int | None = 0

    @abc.abstractmethod
    async def write(self, chunk: bytes) -> None: ...

    @abc.abstractmethod
    async def write_eof(self, chunk: bytes = b"") -> None: ...

    @abc.abstractmethod
    async def drain(self) -> None: ...


AbstractRouter.register(UrlDispatcher)
AbstractMatchInfo.register(UrlMappingMatchInfo)
AbstractResolver.register(ThreadedResolver)
