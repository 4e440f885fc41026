"""Server: the low-level request server (aiohttp's ``web.Server``) and protocol factory.

It owns connection settings and the set of live connections, turns handler outcomes into
responses (HTTP exceptions answer as themselves, anything else is a logged 500), and shuts
connections down gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from surge.http.content.multipart import MultipartError
from surge.http.errors import HttpProtocolError
from surge.net.streams import StreamReader
from surge.server.dates import date_header_line
from surge.server.exceptions import HTTPBadRequest, HTTPException, HTTPInternalServerError
from surge.server.full_response import Response
from surge.server.protocol.h1 import H1ServerProtocol
from surge.server.request import BaseRequest
from surge.server.response import StreamResponse

__all__ = ["Server"]

server_logger = logging.getLogger("surge.server")
access_logger = logging.getLogger("surge.access")

RequestHandler = Callable[[Any], Awaitable[StreamResponse]]
_RESPONSE_PREPARE = Response.prepare


class Server:
    """Calls ``handler(request)`` for each request; an instance is an asyncio protocol factory.

    Example::

        async def handler(request):
            return web.Response(text="OK")

        server = web.Server(handler)
        await loop.create_server(server, "127.0.0.1", 8080)
    """

    def __init__(
        self,
        handler: RequestHandler,
        *,
        request_factory: Callable[..., BaseRequest] | None = None,
        handler_cancellation: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        keepalive_timeout: float = 75.0,
        header_timeout: float = 15.0,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        read_bufsize: int = 2**16,
        max_pipelined: int = 16,
        max_idle_connections: int | None = None,
        access_log_class: Any = None,
        access_log: logging.Logger | None = access_logger,
        access_log_format: str | None = None,
        logger: logging.Logger = server_logger,
        debug: bool = False,
        tcp_keepalive: bool = True,
        lingering_time: float = 10.0,
        timeout_ceil_threshold: float = 5,
        auto_decompress: bool = True,
        http2: bool | None = None,
        http2_limits: Any = None,
        **kwargs: Any,
    ) -> None:
        self._handler = handler
        self._loop = loop
        self.request_factory = request_factory or self._make_request
        self.handler_cancellation = handler_cancellation
        self.keepalive_timeout = keepalive_timeout
        self.header_timeout = header_timeout
        self.max_line_size = max_line_size
        self.max_field_size = max_field_size
        self.max_headers = max_headers
        self.read_bufsize = read_bufsize
        self.max_pipelined = max_pipelined
        self.lingering_time = lingering_time
        self.logger = logger
        self.debug = debug
        self.shutting_down = False
        self._connections: set[Any] = set()  # H1ServerProtocol, H2ServerProtocol, ...
        # ``Date: ...\r\n`` as bytes, refreshed every second by a timer while connections live.
        self.date_line = date_header_line().encode("ascii")
        self._date_timer: asyncio.TimerHandle | None = None
        # Idle keep-alive connections, longest idle first; tracked only when bounded.
        self.max_idle_connections = max_idle_connections
        self._idle: dict[H1ServerProtocol, None] = {}
        # Live WebSockets (added by WebSocketResponse.prepare); shutdown closes them with 1001.
        self.websockets: set[Any] = set()
        self.requests_count = 0
        self._access_logger = _make_access_logger(access_log_class, access_log, access_log_format)
        # HTTP/2 (on by default when h2 is installed): connections start on a protocol that
        # picks h1 or h2, and HTTP/1.1 requests may ask for ``Upgrade: h2c``.
        self._protocol_class: Callable[[Server], Any] = H1ServerProtocol
        self._h2c: Callable[[Server, BaseRequest], Awaitable[None] | None] | None = None
        self.http2_limits = http2_limits
        self.http2 = _enable_http2(self, http2)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    @property
    def connections(self) -> list[Any]:
        return list(self._connections)

    @property
    def handler(self) -> RequestHandler:
        return self._handler

    def __call__(self) -> asyncio.Protocol:
        return self._protocol_class(self)  # type: ignore[no-any-return]

    def connection_made(self, protocol: Any) -> None:
        self._connections.add(protocol)
        if self._date_timer is None:
            self._tick_date()

    def _tick_date(self) -> None:
        """Refresh ``date_line`` now and at each following second, while connections live."""
        self.date_line = date_header_line().encode("ascii")
        if not self._connections:
            self._date_timer = None
            return
        delay = 1.0 - (time.time() % 1.0)
        self._date_timer = self.loop.call_later(delay, self._tick_date)

    def connection_lost(self, protocol: Any) -> None:
        self._connections.discard(protocol)
        self._idle.pop(protocol, None)

    def connection_idle(self, protocol: H1ServerProtocol) -> None:
        """A keep-alive connection waits for its next request; close the longest idle
        ones beyond ``max_idle_connections``."""
        idle = self._idle
        idle[protocol] = None
        limit = self.max_idle_connections
        while limit is not None and len(idle) > limit:
            oldest = next(iter(idle))
            del idle[oldest]
            oldest.close_idle()

    def connection_busy(self, protocol: H1ServerProtocol) -> None:
        self._idle.pop(protocol, None)

    def _make_request(self, head: Any, payload: StreamReader, protocol: Any) -> BaseRequest:
        return BaseRequest(head, payload, protocol, protocol, None, self._loop)

    def log_protocol_error(self, protocol: Any, exc: HttpProtocolError) -> None:
        if self.logger.isEnabledFor(logging.DEBUG):
            self.logger.debug("Bad request from %s: %s", _peer(protocol), exc.message)

    # handling --------------------------------------------------------------------------------

    async def respond(self, request: BaseRequest) -> None:
        """Run the handler for ``request`` and send its response (or an error response)."""
        if request._head.upgrade and self._h2c is not None:
            upgraded = self._h2c(self, request)
            if upgraded is not None:
                await upgraded  # answered on HTTP/2 stream 1
                return
        logger = self._access_logger
        start = 0.0
        if logger is not None:
            if logger.enabled:  # checked per request: logging may be set up after start-up
                start = self.loop.time()
            else:
                logger = None
        self.requests_count += 1
        try:
            handler = self._handler  # (a method load of an attribute does not specialize)
            response = await handler(request)
        except HTTPException as exc:
            response = exc
        except asyncio.CancelledError:
            raise
        except ConnectionError:
            return  # the client went away; nothing to answer
        except Exception as exc:
            response = self.handle_error(request, exc)
        else:
            # ``type() is`` first: StreamResponse is an ABC, so isinstance is a slow check.
            if type(response) is not Response and not isinstance(response, StreamResponse):
                problem = (
                    "Missing return statement on request handler"
                    if response is None
                    else f"Handler returned {type(response).__name__}, not a response"
                )
                response = self.handle_error(request, RuntimeError(problem))
        try:
            if not response._eof_sent:
                if (
                    # An untouched Response(text=...) (never prepared: see _settle_headers),
                    # or any Response not prepared by its handler.
                    (type(response) is Response and response._ctype is not None)
                    or (type(response).prepare is _RESPONSE_PREPARE and response._writer is None)
                ) and not request._prepare_hooks:
                    response._send(request)  # type: ignore[attr-defined]
                else:
                    if response._writer is None:
                        await response.prepare(request)
                    await response.write_eof()
        except ConnectionError:
            return
        except Exception as exc:
            if response._writer is not None:
                # Headers are gone; the only honest signal left is closing the connection.
                self.logger.exception("Error while sending a response")
                protocol = request._protocol
                if hasattr(protocol, "_close"):
                    protocol._close()
                return
            error = self.handle_error(request, exc)
            await error.prepare(request)
            response = error
        if logger is not None:
            logger.log(request, response, self.loop.time() - start)

    def handle_error(self, request: BaseRequest, exc: BaseException) -> Response:
        """The response for an unexpected exception: a 500, with the traceback in debug mode.

        A malformed multipart body met by a handler's own reader is the client's fault: 400.
        """
        if isinstance(exc, MultipartError):
            return HTTPBadRequest(text=f"Malformed multipart body: {exc}")
        self.logger.exception("Error handling request", exc_info=exc)
        if self.debug:
            tb = escape("".join(traceback.format_exception(exc)))
            text = f"<h1>500 Internal Server Error</h1><pre>{tb}</pre>"
            return Response(status=500, text=text, content_type="text/html")
        return HTTPInternalServerError(
            text="500 Internal Server Error\n\nServer got itself in trouble"
        )

    # lifecycle -------------------------------------------------------------------------------

    async def shutdown(self, timeout: float | None = None) -> None:
        """Close idle connections, let busy ones finish within ``timeout``, then close all.

        Handlers still running at the deadline are cancelled, and awaited for at most
        ``timeout`` again, so a handler's ``finally`` blocks run before on_cleanup.
        """
        self.shutting_down = True
        loop = self.loop
        timeout = 60.0 if timeout is None else timeout
        deadline = loop.time() + timeout
        for ws in list(self.websockets):
            ws._shutdown()
        while True:
            busy = [c for c in list(self._connections) if not c.close_idle()]
            if not busy or loop.time() >= deadline:
                break
            await asyncio.sleep(min(0.02, max(deadline - loop.time(), 0.0)))
        tasks = []
        for conn in list(self._connections):
            task = conn._task
            if task is not None and not task.done():
                task.cancel()
                tasks.append(task)
            if conn.transport is not None:
                # Busy past the deadline: cut the connection rather than send half a reply.
                conn.transport.abort() if task is not None else conn._close()
        if tasks:
            await asyncio.wait(tasks, timeout=max(timeout, 0.1))
        self._connections.clear()


def _enable_http2(server: Server, wanted: bool | None) -> bool:
    if wanted is False:
        return False
    try:
        from surge.server.protocol.dispatch import DispatchProtocol, upgrade_h2c
    except ImportError:  # h2 is not installed
        if wanted:
            raise
        return False
    server._protocol_class = DispatchProtocol
    server._h2c = upgrade_h2c
    return True


def _peer(protocol: Any) -> str:
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return "?"
    return str(transport.get_extra_info("peername"))


def _make_access_logger(cls: Any, logger: logging.Logger | None, fmt: str | None) -> Any:
    if logger is None:
        return None
    from surge.server.access_log import AccessLogger

    cls = cls or AccessLogger
    return cls(logger, fmt) if fmt is not None else cls(logger)
