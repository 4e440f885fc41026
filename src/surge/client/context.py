"""What the verbs return: awaitables that are also async context managers, and the
one-shot ``surge.request()``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from yarl import URL

from surge.client.connector import BaseConnector, TCPConnector
from surge.client.response import ClientResponse

if TYPE_CHECKING:
    from surge.client.session import ClientSession

__all__ = ["_RequestContextManager", "_SessionRequestContextManager", "request"]


class _RequestContextManager:
    """What ``session.get()`` returns: awaitable, and an async context manager that
    releases the response on exit.

    A *direct* one (``direct=True``) wraps a coroutine that stores its response on the
    manager itself, so entering needs no coroutine of its own; exiting never needs one.
    """

    __slots__ = ("_coro", "_direct", "_resp")

    def __init__(
        self, coro: Coroutine[Any, Any, ClientResponse] | None, direct: bool = False
    ) -> None:
        self._coro = coro
        self._direct = direct
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        assert self._coro is not None
        return self._coro.__await__()

    def __aenter__(self) -> Awaitable[ClientResponse]:
        assert self._coro is not None
        if self._direct:
            return self._coro
        return self._enter()

    async def _enter(self) -> ClientResponse:
        assert self._coro is not None
        self._resp = await self._coro
        return self._resp

    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Awaitable[None]:
        assert self._resp is not None
        self._resp.release()
        return _DONE


class _Done:
    """An awaitable that is already complete (``__aexit__`` has nothing to wait for)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that never suspends


_DONE = _Done()


class _SessionRequestContextManager:
    """``surge.request(...)``: a one-shot session closed with the response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._session = session
        self._resp: ClientResponse | None = None

    async def _run(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._await_and_read().__await__()

    async def _await_and_read(self) -> ClientResponse:
        resp = await self._run()
        try:
            await resp.read()
        finally:
            await self._session.close()
        return resp

    async def __aenter__(self) -> ClientResponse:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        if self._resp is not None:
            self._resp.release()
        await self._session.close()


_SESSION_OPTIONS = (
    "cookies",
    "version",
    "timeout",
    "connector_owner",
    "cookie_jar",
    "read_bufsize",
    "max_line_size",
    "max_field_size",
    "trust_env",
    "trace_configs",
)


def request(
    method: str,
    url: str | URL,
    *,
    connector: BaseConnector | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """One request with a throw-away session: ``async with surge.request("GET", url) as r:``."""
    from surge.client.session import ClientSession

    session_kwargs = {k: kwargs.pop(k) for k in _SESSION_OPTIONS if k in kwargs}
    if connector is None:
        connector = TCPConnector(force_close=True)
    session = ClientSession(connector=connector, **session_kwargs)
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
