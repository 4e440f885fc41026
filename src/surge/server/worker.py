"""Gunicorn workers: ``gunicorn module:app --worker-class surge.server.worker.GunicornWebWorker``.

As aiohttp's ``GunicornWebWorker``: each worker runs one event loop serving gunicorn's
listening sockets; ``module:app`` may be an Application, a low-level ``web.Server``, or a
(coroutine) function returning one. Gunicorn's ``graceful_timeout`` (95 % of it) bounds the
graceful shutdown, ``keepalive`` the idle keep-alive time, ``max_requests`` recycles workers.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import signal
import ssl
import sys
from typing import Any

from gunicorn.config import AccessLogFormat as GunicornAccessLogFormat
from gunicorn.errors import AppImportError
from gunicorn.workers import base

from surge.server.access_log import AccessLogger
from surge.server.app import Application
from surge.server.runner import AppRunner, BaseRunner, ServerRunner, SockSite
from surge.server.server import Server

__all__ = ["GunicornUVLoopWebWorker", "GunicornWebWorker"]


class GunicornWebWorker(base.Worker):  # type: ignore[misc]
    """A gunicorn worker running surge on asyncio's (or the installed policy's) event loop."""

    alive: bool
    DEFAULT_AIOHTTP_LOG_FORMAT = AccessLogger.LOG_FORMAT
    DEFAULT_GUNICORN_LOG_FORMAT = GunicornAccessLogFormat.default

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._task: asyncio.Task[None] | None = None
        self.exit_code = 0
        self._wakeup: asyncio.Event | None = None
        self._access_log_format = AccessLogger.LOG_FORMAT

    def init_process(self) -> None:
        # The loop must exist before gunicorn calls init_signals (it registers on the loop).
        asyncio.get_event_loop_policy().set_event_loop(None)
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        super().init_process()

    def load_wsgi(self) -> None:
        # Checked here, before the worker counts as booted, so gunicorn stops on a bad format
        # instead of restarting workers forever.
        self._access_log_format = self._get_valid_log_format(self.cfg.access_log_format)
        try:
            super().load_wsgi()
        except AppImportError:
            # gunicorn insists on a callable; a plain Application instance is what we serve.
            target = _import(getattr(self.app, "app_uri", None) or "")
            if target is None:
                raise
            self.wsgi = target

    def run(self) -> None:
        self._task = self.loop.create_task(self._run())
        try:
            self.loop.run_until_complete(self._task)
        except Exception:
            self.log.exception("Exception in gunicorn worker")
            self.exit_code = self.exit_code or 1
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
        sys.exit(self.exit_code)

    async def _run(self) -> None:
        self._wakeup = asyncio.Event()
        target = self.wsgi
        if inspect.iscoroutinefunction(target) or (
            callable(target) and not isinstance(target, Application | Server)
        ):
            target = target()
        if inspect.isawaitable(target):
            target = await target
        runner: BaseRunner
        options: dict[str, Any] = {
            "keepalive_timeout": self.cfg.keepalive,
            "access_log": self.log.access_log if self.cfg.accesslog else None,
            "access_log_format": self._access_log_format,
            "shutdown_timeout": self.cfg.graceful_timeout / 100 * 95,
        }
        if isinstance(target, Application):
            runner = AppRunner(target, **options)
        elif isinstance(target, Server):
            options.pop("access_log_format")
            options.pop("access_log")
            options.pop("keepalive_timeout")
            runner = ServerRunner(target, **options)
        else:
            raise RuntimeError(
                f"wsgi app should be either Application or async function returning "
                f"Application, got {target!r}"
            )
        await runner.setup()
        ctx = self._create_ssl_context(self.cfg) if self.cfg.is_ssl else None
        for sock in self.sockets:
            # A duplicate: closing the site closes it, and gunicorn closes its own on exit.
            site = SockSite(runner, sock.dup(), ssl_context=ctx)
            await site.start()
        server = runner.server
        assert server is not None
        pid = os.getpid()
        try:
            while self.alive:
                self.notify()
                if self.max_requests and server.requests_count >= self.max_requests:
                    self.alive = False
                    self.log.info("Max requests, shutting down: %s", self)
                elif pid == os.getpid() and self.ppid != os.getppid():
                    self.alive = False
                    self.log.info("Parent changed, shutting down: %s", self)
                else:
                    await self._wait(1.0)
        finally:
            await runner.cleanup()

    async def _wait(self, timeout: float) -> None:
        assert self._wakeup is not None
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        except TimeoutError:
            pass
        self._wakeup.clear()

    def _notify_loop(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    # signals -----------------------------------------------------------------------------------

    def init_signals(self) -> None:
        # Handlers run in the loop, so a stop request wakes the serving task at once.
        add = self.loop.add_signal_handler
        add(signal.SIGQUIT, self.handle_quit, signal.SIGQUIT, None)
        add(signal.SIGTERM, self.handle_exit, signal.SIGTERM, None)
        add(signal.SIGINT, self.handle_quit, signal.SIGINT, None)
        add(signal.SIGWINCH, self.handle_winch, signal.SIGWINCH, None)
        add(signal.SIGUSR1, self.handle_usr1, signal.SIGUSR1, None)
        add(signal.SIGABRT, self.handle_abort, signal.SIGABRT, None)
        # Do not let a signal interrupt a system call mid-way.
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)

    def handle_quit(self, sig: int, frame: Any) -> None:
        self.alive = False
        self.cfg.worker_int(self)
        self._notify_loop()

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.alive = False
        self._notify_loop()

    def handle_abort(self, sig: int, frame: Any) -> None:
        self.alive = False
        self.exit_code = 1
        self.cfg.worker_abort(self)
        sys.exit(1)

    # configuration -----------------------------------------------------------------------------

    @staticmethod
    def _create_ssl_context(cfg: Any) -> ssl.SSLContext:
        """An SSL context from gunicorn's ``certfile``, ``keyfile``, ``ca_certs``, ... options."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.certfile, cfg.keyfile)
        ctx.verify_mode = cfg.cert_reqs
        if cfg.ca_certs:
            ctx.load_verify_locations(cfg.ca_certs)
        if cfg.ciphers:
            ctx.set_ciphers(cfg.ciphers)
        return ctx

    def _get_valid_log_format(self, source_format: str) -> str:
        if source_format == self.DEFAULT_GUNICORN_LOG_FORMAT:
            return self.DEFAULT_AIOHTTP_LOG_FORMAT
        if "%(" in source_format:
            raise ValueError(
                "Gunicorn's %(name)s log format options are not supported; use aiohttp's "
                "access log directives (%a %t %r %s %b ...), see the access log documentation"
            )
        return source_format


class GunicornUVLoopWebWorker(GunicornWebWorker):
    """The same worker on uvloop's event loop."""

    def init_process(self) -> None:
        import uvloop

        asyncio.get_event_loop_policy().set_event_loop(None)
        self.loop = uvloop.new_event_loop()
        asyncio.set_event_loop(self.loop)
        base.Worker.init_process(self)


def _import(uri: str) -> Any:
    module_name, sep, attr = uri.partition(":")
    if not sep:
        return None
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return None
    return target
