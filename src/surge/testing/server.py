"""Test servers on a real loopback socket: ``TestServer(app)`` and ``RawTestServer(handler)``.

``await server.start_server()`` (or ``async with server``) binds 127.0.0.1 on a free port;
``server.make_url('/path')`` gives the absolute URL to request; ``await server.close()`` stops it
and runs the application's shutdown and cleanup.
"""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any

from yarl import URL

from surge.server.app import Application
from surge.server.runner import AppRunner, BaseRunner, ServerRunner, SockSite
from surge.server.server import RequestHandler, Server
from surge.testing.utils import get_port_socket

__all__ = ["BaseTestServer", "RawTestServer", "TestServer"]

# In-flight requests get this long to finish when a test server closes (aiohttp's runners wait
# 60 s; a test that leaves a request hanging should not stall the suite for a minute).
_SHUTDOWN_TIMEOUT = 1.0


class BaseTestServer:
    """A server bound to ``host`` (127.0.0.1) on ``port`` (a free one when ``None``)."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        skip_url_asserts: bool = False,
        socket_factory: Any = get_port_socket,
        **kwargs: Any,
    ) -> None:
        self.runner: BaseRunner | None = None
        self._root: URL | None = None
        self.host = host
        self.port = port
        self.scheme = scheme
        self.skip_url_asserts = skip_url_asserts
        self.socket_factory = socket_factory
        self._ssl = kwargs.pop("ssl", None)
        self._kwargs = kwargs
        self._started = False
        self._closed = False

    async def start_server(
        self, loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any
    ) -> None:
        """Set up the runner and start listening; a second call does nothing."""
        if self._started:
            return
        self._started = True
        options = {**self._kwargs, **kwargs}
        options.setdefault("shutdown_timeout", _SHUTDOWN_TIMEOUT)
        self.runner = self._make_runner(**options)
        await self.runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = self.socket_factory(self.host, self.port or 0, family)
        self.port = int(sock.getsockname()[1])
        site = SockSite(
            self.runner,
            sock,
            ssl_context=self._ssl,
            shutdown_timeout=options["shutdown_timeout"],
        )
        await site.start()
        if not self.scheme:
            self.scheme = "https" if self._ssl else "http"
        host = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        self._root = URL(f"{self.scheme}://{host}:{self.port}")

    def _make_runner(self, **kwargs: Any) -> BaseRunner:
        raise NotImplementedError

    def make_url(self, path: str | URL) -> URL:
        """The absolute URL of ``path`` (a relative URL) on this server."""
        assert self._root is not None, "start the server first"
        url = URL(path)
        if not self.skip_url_asserts:
            assert not url.absolute, f"expected a relative URL, got {url}"
            return self._root.join(url)
        return URL(str(self._root) + str(path))

    @property
    def started(self) -> bool:
        return self._started

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def handler(self) -> Server:
        """The low-level :class:`surge.web.Server` answering the connections."""
        assert self.runner is not None and self.runner.server is not None
        return self.runner.server

    async def close(self) -> None:
        """Stop listening, finish or close connections, run shutdown and cleanup hooks."""
        if self._started and not self._closed:
            if self.runner is not None:
                await self.runner.cleanup()
            self._root = None
            self.port = None
            self._closed = True

    async def __aenter__(self) -> BaseTestServer:
        await self.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class TestServer(BaseTestServer):
    """Serves an :class:`~surge.web.Application` (its startup/cleanup hooks run too)."""

    def __init__(
        self,
        app: Application,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return AppRunner(self.app, **kwargs)


class RawTestServer(BaseTestServer):
    """Serves a bare ``async def handler(request)`` through a low-level ``web.Server``."""

    def __init__(
        self,
        handler: RequestHandler,
        *,
        scheme: str = "",
        host: str = "127.0.0.1",
        port: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        super().__init__(scheme=scheme, host=host, port=port, **kwargs)

    def _make_runner(self, debug: bool = True, **kwargs: Any) -> BaseRunner:
        shutdown_timeout = kwargs.pop("shutdown_timeout", _SHUTDOWN_TIMEOUT)
        server = Server(self._handler, debug=debug, **kwargs)
        return ServerRunner(server, shutdown_timeout=shutdown_timeout)
