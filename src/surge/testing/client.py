"""TestClient: a ``surge.ClientSession`` bound to one test server.

``TestClient(app)`` (or a :class:`TestServer` / :class:`RawTestServer`) starts the server on
first use; requests take paths (``await client.get('/')``), and ``close()`` releases every
response and WebSocket it handed out, closes the session, then the server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from yarl import URL

from surge.server.app import Application
from surge.testing.server import BaseTestServer, TestServer

__all__ = ["TestClient"]

_T = TypeVar("_T")


class _RequestContextManager(Generic[_T]):
    """``await client.get(...)`` or ``async with client.get(...) as resp:``."""

    __slots__ = ("_coro", "_on_exit", "_result")

    def __init__(
        self, coro: Coroutine[Any, Any, _T], on_exit: Callable[[_T], Awaitable[None]]
    ) -> None:
        self._coro = coro
        self._on_exit = on_exit
        self._result: _T | None = None

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()

    async def __aenter__(self) -> _T:
        self._result = await self._coro
        return self._result

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._result is not None:
            await self._on_exit(self._result)


async def _release(response: Any) -> None:
    result = response.release()
    if isinstance(result, Awaitable):
        await result


async def _close_ws(ws: Any) -> None:
    await ws.close()


class TestClient:
    """A client session for one test server, addressed by path.

    Example::

        async with TestClient(app) as client:
            async with client.get("/test") as resp:
                assert resp.status == 200
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        server: BaseTestServer | Application,
        *,
        cookie_jar: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(server, Application):
            server = TestServer(server)
        if not isinstance(server, BaseTestServer):
            raise TypeError(
                f"server must be a TestServer, RawTestServer or Application, got {server!r}"
            )
        kwargs.pop("loop", None)  # accepted for aiohttp compatibility; the running loop is used
        self._server = server
        self._cookie_jar = cookie_jar
        self._session_kwargs = kwargs
        self._session: Any = None
        self._responses: list[Any] = []
        self._websockets: list[Any] = []
        self._closed = False

    async def start_server(self) -> None:
        """Start the server (if not running) and open the session."""
        await self._server.start_server()
        try:
            self._ensure_session()
        except BaseException:
            await self._server.close()  # ``async with`` never reaches __aexit__ on failure
            raise

    def _ensure_session(self) -> Any:
        if self._session is None:
            # Imported on first use: server-only test utilities never load the client.
            from surge import ClientSession, CookieJar

            jar = self._cookie_jar
            if jar is None:
                jar = CookieJar(unsafe=True)  # test servers live on an IP address
            self._session = ClientSession(cookie_jar=jar, **self._session_kwargs)
        return self._session

    @property
    def scheme(self) -> str:
        return self._server.scheme

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int | None:
        return self._server.port

    @property
    def server(self) -> BaseTestServer:
        return self._server

    @property
    def app(self) -> Application | None:
        """The application under test (``None`` for a :class:`RawTestServer`)."""
        return getattr(self._server, "app", None)

    @property
    def session(self) -> Any:
        """The underlying ``surge.ClientSession`` (for cookies, headers, ...)."""
        return self._ensure_session()

    def make_url(self, path: str | URL) -> URL:
        return self._server.make_url(path)

    async def _request(self, method: str, path: str | URL, **kwargs: Any) -> Any:
        await self.start_server()
        response = await self._session.request(method, self.make_url(path), **kwargs)
        self._responses.append(response)
        return response

    def request(self, method: str, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        """Send a request to ``path``; await it, or use it with ``async with``."""
        return _RequestContextManager(self._request(method, path, **kwargs), _release)

    def get(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("GET", path, **kwargs)

    def post(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("POST", path, **kwargs)

    def put(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("HEAD", path, **kwargs)

    def options(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        return self.request("OPTIONS", path, **kwargs)

    async def _ws_connect(self, path: str | URL, **kwargs: Any) -> Any:
        await self.start_server()
        ws = await self._session.ws_connect(self.make_url(path), **kwargs)
        self._websockets.append(ws)
        return ws

    def ws_connect(self, path: str | URL, **kwargs: Any) -> _RequestContextManager[Any]:
        """Open a WebSocket to ``path``; await it, or use it with ``async with``."""
        return _RequestContextManager(self._ws_connect(path, **kwargs), _close_ws)

    async def close(self) -> None:
        """Release responses, close WebSockets and the session, then stop the server."""
        if self._closed:
            return
        self._closed = True
        for response in self._responses:
            response.close()
        for ws in self._websockets:
            await ws.close()
        self._responses.clear()
        self._websockets.clear()
        if self._session is not None:
            await self._session.close()
        await self._server.close()

    async def __aenter__(self) -> TestClient:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
