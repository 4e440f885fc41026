"""``run_app``: serve an application (or a coroutine returning one) until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from surge.server.access_log import AbstractAccessLogger, AccessLogger
from surge.server.app import Application
from surge.server.runner import AppRunner, BaseSite, GracefulExit, SockSite, TCPSite, UnixSite
from surge.server.server import access_logger

__all__ = ["new_event_loop", "run_app"]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (``SURGE_NO_UVLOOP=1`` opts out), else asyncio's."""
    if not os.environ.get("SURGE_NO_UVLOOP"):
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


async def _run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    ssl_context: ssl_module.SSLContext | None = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    shutdown_timeout: float = 60.0,
    handle_signals: bool = True,
    **server_kwargs: Any,
) -> None:
    if asyncio.iscoroutine(app) or isinstance(app, Awaitable):
        app = await app
    if not isinstance(app, Application):
        raise TypeError(
            f"run_app needs a web.Application (or a coroutine returning one), got {app!r}"
        )
    runner = AppRunner(
        app, handle_signals=handle_signals, shutdown_timeout=shutdown_timeout, **server_kwargs
    )
    await runner.setup()
    try:
        sites: list[BaseSite] = []
        if host is not None:
            hosts = [host] if isinstance(host, str) else list(host)
            for h in hosts:
                sites.append(
                    TCPSite(
                        runner,
                        h,
                        port,
                        ssl_context=ssl_context,
                        backlog=backlog,
                        reuse_address=reuse_address,
                        reuse_port=reuse_port,
                        shutdown_timeout=shutdown_timeout,
                    )
                )
        elif (path is None and sock is None) or port is not None:
            sites.append(
                TCPSite(
                    runner,
                    port=port,
                    ssl_context=ssl_context,
                    backlog=backlog,
                    reuse_address=reuse_address,
                    reuse_port=reuse_port,
                    shutdown_timeout=shutdown_timeout,
                )
            )
        if path is not None:
            for p in [path] if isinstance(path, (str, os.PathLike)) else path:
                sites.append(UnixSite(runner, p, ssl_context=ssl_context, backlog=backlog))
        if sock is not None:
            socks = [sock] if isinstance(sock, socket.socket) else list(sock)
            for s in socks:
                sites.append(SockSite(runner, s, ssl_context=ssl_context, backlog=backlog))
        for site in sites:
            await site.start()
        if print is not None:
            names = sorted(str(s.name) for s in runner.sites)
            print(
                "======== Running on {} ========\n(Press CTRL+C to quit)".format(", ".join(names))
            )
        await asyncio.Event().wait()  # until a signal raises GracefulExit
    finally:
        await runner.cleanup()


def run_app(
    app: Application | Awaitable[Application],
    *,
    host: str | Iterable[str] | None = None,
    port: int | None = None,
    path: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    sock: socket.socket | Iterable[socket.socket] | None = None,
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = 75.0,
    ssl_context: ssl_module.SSLContext | None = None,
    print: Callable[..., None] | None = print,
    backlog: int = 128,
    access_log_class: type[AbstractAccessLogger] = AccessLogger,
    access_log_format: str = AccessLogger.LOG_FORMAT,
    access_log: logging.Logger | None = access_logger,
    handle_signals: bool = True,
    reuse_address: bool | None = None,
    reuse_port: bool | None = None,
    handler_cancellation: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    **kwargs: Any,
) -> None:
    """Run ``app`` on ``host:port`` (default ``0.0.0.0:8080``) until SIGINT or SIGTERM.

    On the signal it stops accepting, lets in-flight requests finish within
    ``shutdown_timeout`` seconds, runs on_shutdown and on_cleanup, and returns.
    """
    if loop is None:
        loop = new_event_loop()
    if (
        loop.get_debug()
        and access_log is not None
        and access_log.name == access_logger.name
        and access_log.level == logging.NOTSET
        and not access_log.hasHandlers()
    ):
        # As aiohttp: in debug mode an unconfigured access log still shows each request.
        access_log.setLevel(logging.DEBUG)
        access_log.addHandler(logging.StreamHandler())
    asyncio.set_event_loop(loop)
    main = loop.create_task(
        _run_app(
            app,
            host=host,
            port=port,
            path=path,
            sock=sock,
            ssl_context=ssl_context,
            print=print,
            backlog=backlog,
            reuse_address=reuse_address,
            reuse_port=reuse_port,
            shutdown_timeout=shutdown_timeout,
            handle_signals=handle_signals,
            keepalive_timeout=keepalive_timeout,
            access_log_class=access_log_class,
            access_log_format=access_log_format,
            access_log=access_log,
            handler_cancellation=handler_cancellation,
            **kwargs,
        )
    )
    try:
        loop.run_until_complete(main)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not main.done():
            main.cancel()
            try:
                loop.run_until_complete(main)
            except (asyncio.CancelledError, GracefulExit, KeyboardInterrupt):
                pass
        _cancel_tasks(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
