"""Runners and sites: start an application's server on TCP, Unix or pre-made sockets.

``AppRunner(app)`` runs the app's startup signals and makes the protocol factory; each site
binds a listener; ``cleanup`` stops accepting, finishes in-flight requests within
``shutdown_timeout``, then runs on_shutdown and on_cleanup.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl as ssl_module
from typing import Any

from surge.server.access_log import AbstractAccessLogger, AccessLogger
from surge.server.app import Application
from surge.server.server import Server

__all__ = [
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
]


class GracefulExit(SystemExit):
    code = 1


def _raise_graceful_exit() -> None:
    raise GracefulExit()


class BaseSite:
    __slots__ = ("_backlog", "_runner", "_server", "_shutdown_timeout", "_ssl_context")

    def __init__(
        self,
        runner: BaseRunner,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: ssl_module.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        if runner.server is None:
            raise RuntimeError("Call runner.setup() before making a site")
        self._runner = runner
        self._ssl_context = ssl_context
        self._backlog = backlog
        self._shutdown_timeout = shutdown_timeout
        self._server: asyncio.Server | None = None

    @property
    def name(self) -> str:
        raise NotImplementedError

    async def start(self) -> None:
        self._runner._reg_site(self)

    def _tls_context(self) -> ssl_module.SSLContext | None:
        """The site's TLS context, advertising h2 and http/1.1 by ALPN when HTTP/2 is on."""
        context = self._ssl_context
        server = self._runner.server
        if context is not None and getattr(server, "http2", False):
            from surge.server.protocol.dispatch import alpn_context

            return alpn_context(context)
        return context

    async def stop(self) -> None:
        self._runner._check_site(self)
        if self._server is not None:
            self._server.close()
        self._runner._unreg_site(self)


class TCPSite(BaseSite):
    """Listen on ``host:port`` (``port=0`` picks a free port; see ``site.port``)."""

    __slots__ = ("_host", "_port", "_reuse_address", "_reuse_port")

    def __init__(
        self,
        runner: BaseRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: ssl_module.SSLContext | None = None,
        backlog: int = 128,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._host = host
        if port is None:
            port = 8443 if ssl_context else 8080
        self._port = port
        self._reuse_address = reuse_address
        self._reuse_port = reuse_port

    @property
    def port(self) -> int:
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        host = "0.0.0.0" if not self._host else self._host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            server,
            self._host,
            self._port,
            ssl=self._tls_context(),
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )


class UnixSite(BaseSite):
    __slots__ = ("_path",)

    def __init__(
        self,
        runner: BaseRunner,
        path: str | os.PathLike[str],
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: ssl_module.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._path = os.fspath(path)

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://unix:{self._path}:"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_unix_server(
            server, self._path, ssl=self._tls_context(), backlog=self._backlog
        )


class SockSite(BaseSite):
    __slots__ = ("_name", "_sock")

    def __init__(
        self,
        runner: BaseRunner,
        sock: socket.socket,
        *,
        shutdown_timeout: float = 60.0,
        ssl_context: ssl_module.SSLContext | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(
            runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context, backlog=backlog
        )
        self._sock = sock
        scheme = "https" if ssl_context else "http"
        if hasattr(socket, "AF_UNIX") and sock.family == socket.AF_UNIX:
            self._name = f"{scheme}://unix:{sock.getsockname()}:"
        else:
            host, port = sock.getsockname()[:2]
            self._name = f"{scheme}://{host}:{port}"

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            server, sock=self._sock, ssl=self._tls_context(), backlog=self._backlog
        )


class BaseRunner:
    """Owns a :class:`Server` and its sites."""

    __slots__ = ("_handle_signals", "_kwargs", "_server", "_shutdown_timeout", "_sites")

    def __init__(
        self, *, handle_signals: bool = False, shutdown_timeout: float = 60.0, **kwargs: Any
    ) -> None:
        self._handle_signals = handle_signals
        self._kwargs = kwargs
        self._server: Server | None = None
        self._sites: list[BaseSite] = []
        self._shutdown_timeout = shutdown_timeout

    @property
    def server(self) -> Server | None:
        return self._server

    @property
    def addresses(self) -> list[Any]:
        addrs = []
        for site in self._sites:
            server = site._server
            if server is not None:
                for sock in server.sockets or ():
                    addrs.append(sock.getsockname())
        return addrs

    @property
    def sites(self) -> set[BaseSite]:
        return set(self._sites)

    async def setup(self) -> None:
        loop = asyncio.get_running_loop()
        if self._handle_signals:
            try:
                loop.add_signal_handler(signal.SIGINT, _raise_graceful_exit)
                loop.add_signal_handler(signal.SIGTERM, _raise_graceful_exit)
            except NotImplementedError:
                pass
        self._server = await self._make_server()

    async def _make_server(self) -> Server:
        raise NotImplementedError

    async def _cleanup_server(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def cleanup(self) -> None:
        """Shut down gracefully, in aiohttp's documented order.

        1. stop every site (new connections are refused); 2. close idle keep-alive
        connections and mark busy ones to close after their response; 3. run on_shutdown;
        4. let running handlers finish within ``shutdown_timeout``; 5. cancel what is left
        and close every connection; 6. run on_cleanup.
        """
        for site in list(self._sites):
            await site.stop()
        server = self._server
        if server is not None:
            server.shutting_down = True
            for conn in server.connections:
                conn.close_idle()
            await self.shutdown()
            await server.shutdown(self._shutdown_timeout)
        await self._cleanup_server()
        self._server = None
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            try:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)
            except NotImplementedError:
                pass

    def _reg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            raise RuntimeError(f"Site {site} is already registered in runner {self}")
        self._sites.append(site)

    def _check_site(self, site: BaseSite) -> None:
        if site not in self._sites:
            raise RuntimeError(f"Site {site} is not registered in runner {self}")

    def _unreg_site(self, site: BaseSite) -> None:
        if site in self._sites:
            self._sites.remove(site)


class ServerRunner(BaseRunner):
    """Runs a low-level :class:`Server` (no application signals)."""

    __slots__ = ("_web_server",)

    def __init__(self, web_server: Server, *, handle_signals: bool = False, **kwargs: Any) -> None:
        super().__init__(handle_signals=handle_signals, **kwargs)
        self._web_server = web_server

    async def _make_server(self) -> Server:
        return self._web_server


class AppRunner(BaseRunner):
    """Runs an :class:`Application`: startup signals on ``setup``, shutdown on ``cleanup``."""

    __slots__ = ("_app",)

    def __init__(
        self,
        app: Application,
        *,
        handle_signals: bool = False,
        access_log_class: type[AbstractAccessLogger] = AccessLogger,
        **kwargs: Any,
    ) -> None:
        if not isinstance(app, Application):
            raise TypeError(f"The first argument should be web.Application instance, got {app!r}")
        if not (
            isinstance(access_log_class, type)
            and issubclass(access_log_class, AbstractAccessLogger)
        ):
            raise TypeError(
                "access_log_class must be a subclass of surge.web.AbstractAccessLogger, "
                f"got {access_log_class!r}"
            )
        kwargs.setdefault("access_log_format", AccessLogger.LOG_FORMAT)
        super().__init__(handle_signals=handle_signals, access_log_class=access_log_class, **kwargs)
        self._app = app

    @property
    def app(self) -> Application:
        return self._app

    async def _make_server(self) -> Server:
        loop = asyncio.get_running_loop()
        # As aiohttp: routes, middlewares and signals freeze first; on_startup handlers may still
        # store state (``app['db'] = ...``), and the whole app freezes after them.
        self._app.pre_freeze()
        await self._app.startup()
        self._app.freeze()
        server: Server = self._app._make_handler(loop=loop, **self._kwargs)
        return server

    async def shutdown(self) -> None:
        await self._app.shutdown()

    async def _cleanup_server(self) -> None:
        await self._app.cleanup()
