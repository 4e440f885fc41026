"""HTTP/1.1 server connection: llhttp parsing, pipelining, keep-alive, flow control, framing.

Invariants:
- Requests on one connection are handled one at a time, responses leave in request order;
  at most ``max_pipelined`` parsed requests wait, after which reading pauses.
- A protocol error answers ``error.status`` and closes; nothing after the fault is handled.
  Requests parsed before the fault are answered first, in order, then the error.
- A body the handler left unread is discarded when small (the connection stays usable), else
  the connection closes after the response with a lingering close (no reset that could
  destroy the response in flight).
- ``write`` puts bytes on the transport at once and returns an awaitable for flow control, so an
  un-awaited write is still delivered in order.
- One serving task per connection; an idle connection's handlers start in data_received.
- Response framing (the ResponseWriter side) lives in ``h1_writer``.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from surge.http.errors import HttpProtocolError, PipelineOverflow
from surge.http.h1.parser import H1RequestParser, RequestHead
from surge.http.h1.writer import (
    serialize_response_head,
)
from surge.net.streams import EMPTY_PAYLOAD, StreamReader
from surge.server.dates import http_date_now
from surge.server.protocol.h1_writer import DISCARD_LIMIT, H1ResponseWriter
from surge.server.protocol.handoff import DONE as _DONE
from surge.server.protocol.handoff import NOT_STARTED as _NOT_STARTED
from surge.server.protocol.handoff import Resume as _Resume
from surge.server.protocol.handoff import driver_send as _driver_send
from surge.server.protocol.handoff import new_driver as _new_driver

if TYPE_CHECKING:
    from surge.server.request import BaseRequest
    from surge.server.server import Server

__all__ = ["H1ServerProtocol"]

# Parsing past ``max_pipelined`` within one read is tolerated up to this factor, then refused.
_PIPELINE_HARD_FACTOR = 8


class _DeadParser:
    """Stands in for the parser after a fault: later bytes are dropped, never parsed."""

    __slots__ = ()
    in_head = False

    def feed(self, data: bytes) -> int | None:
        return None


_DEAD_PARSER = _DeadParser()


class H1ServerProtocol(H1ResponseWriter, asyncio.Protocol):
    __slots__ = (
        "_closing",
        "_context",
        "_driver",
        "_eof_received",
        "_handoff",
        "_head_started",
        "_last_activity",
        "_loop",
        "_parser",
        "_paused_reading",
        "_paused_writing",
        "_pending_error",
        "_queue",
        "_receiving",
        "_request",
        "_serve_task",
        "_server",
        "_task",
        "_timer",
        "_upgrade_tail",
        "_upgraded",
        "_waiter",
        "transport",
    )

    def __init__(self, server: Server) -> None:
        self._server = server
        self._loop = server.loop
        self.transport: asyncio.Transport | None = None
        self._parser: H1RequestParser | _DeadParser = H1RequestParser(
            self,
            max_line_size=server.max_line_size,
            max_field_size=server.max_field_size,
            max_headers=server.max_headers,
        )
        self._queue: deque[BaseRequest] = deque()
        self._receiving: StreamReader | None = None
        self._request: BaseRequest | None = None
        # ``_task`` is set while a request is being handled (None when idle); the handlers run
        # inside one long-lived task per connection (``_serve_task``), woken by ``_waiter``.
        self._task: asyncio.Task[None] | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        # The serving task's context, and a handler started eagerly that the task must finish.
        self._context: contextvars.Context | None = None
        self._handoff: _Resume | None = None
        self._driver: Generator[Any, Any, None] | None = None  # see _serve_eagerly
        self._closing = False
        self._paused_reading = False
        self._paused_writing = False
        self._drain_waiter = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_activity = 0.0
        self._head_started: float | None = None
        self._upgraded = False
        self._upgrade_tail = b""
        # A fault found while earlier requests still wait for answers, and whether to answer it.
        self._pending_error: tuple[HttpProtocolError, bool] | None = None
        self._eof_received = False
        # Framing of the response being written.
        self._keep_alive = True
        self._chunked = False
        self._head_only = False
        self._eof_sent = True

    # asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._server.connection_made(self)
        now = self._loop.time()
        self._last_activity = now
        self._head_started = now
        self._arm_timer(now + min(self._server.keepalive_timeout, self._server.header_timeout))

    def connection_lost(self, exc: BaseException | None) -> None:
        self._closing = True
        self._server.connection_lost(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._receiving is not None:
            self._receiving.set_exception(ConnectionResetError("Connection lost"))
            self._receiving = None
        for request in self._queue:
            request._connection_lost()
        self._queue.clear()
        if self._request is not None:
            self._request._connection_lost()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("Connection lost"))
        if self._serve_task is not None and (
            self._waiter is not None  # idle: nothing in flight
            or (self._request is not None and self._server.handler_cancellation)
        ):
            self._serve_task.cancel()
        self.transport = None

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._upgraded:
            self._upgrade_tail += data
            return
        if self._closing:
            return
        parser = self._parser
        try:
            offset = parser.feed(data)
        except HttpProtocolError as exc:
            self._protocol_error(exc)
            return
        if parser.in_head and self._head_started is None:
            # The header timeout runs from the read where an unfinished head began.
            self._head_started = self._loop.time()
        if offset is not None:
            # The rest belongs to whatever protocol the handler switches to; stop parsing.
            self._upgraded = True
            self._upgrade_tail = data[offset:]
            if self._receiving is not None:
                self._receiving.feed_eof()
                self._receiving = None
        if self._task is None and self._queue:
            if self._waiter is not None:  # the serving task is idle
                self._serve_eagerly()
            else:
                self._start()

    def eof_received(self) -> bool | None:
        self._eof_received = True
        request = self._request
        if request is not None and request._on_client_gone is not None:
            request._on_client_gone()  # e.g. an event stream: its reader has left
        if self._receiving is not None:
            self._receiving.set_exception(ConnectionResetError("Connection closed mid-body"))
            self._receiving = None
        if self._task is None:
            self._close()
        elif self._server.handler_cancellation:
            # The client is gone as far as this server can tell: a handler_cancellation
            # server cancels its handler (aiohttp's meaning) instead of answering a half-close.
            return None
        return True  # keep the write side open to finish responses in flight

    # RequestSink (called by the parser) ----------------------------------------------------

    def on_request(self, head: RequestHead) -> None:
        self._head_started = None
        server = self._server
        queue = self._queue
        if len(queue) >= server.max_pipelined:
            if not self._paused_reading:
                self.pause_reading()
            # One read can carry thousands of tiny requests; refuse to queue past a hard bound.
            if len(queue) >= server.max_pipelined * _PIPELINE_HARD_FACTOR:
                raise PipelineOverflow("Too many pipelined requests")
        if head.chunked or head.content_length or head.upgrade:
            payload = StreamReader(self, server.read_bufsize, loop=self._loop)
            self._receiving = payload
        else:
            payload = EMPTY_PAYLOAD
        factory = server.request_factory  # a plain load specializes; a method load of it not
        queue.append(factory(head, payload, self))

    def on_body(self, data: bytes) -> None:
        receiving = self._receiving
        if receiving is not None:
            receiving.feed_data(data)

    def on_request_complete(self) -> None:
        receiving = self._receiving
        if receiving is not None:
            self._receiving = None
            receiving.feed_eof()

    # FlowControl (called by the body StreamReader) -----------------------------------------

    def pause_reading(self) -> None:
        if not self._paused_reading and self.transport is not None:
            self._paused_reading = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._paused_reading and self.transport is not None:
            self._paused_reading = False
            self.transport.resume_reading()

    # Request handling ----------------------------------------------------------------------

    def _start(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        elif self._serve_task is None:
            self._context = contextvars.copy_context()
            self._serve_task = self._loop.create_task(self._serve(), context=self._context)

    def _serve_eagerly(self) -> None:
        """Run queued requests here, as the idle serving task would: in its name (for
        ``asyncio.current_task()``) and its context, while their handlers finish without
        waiting, which spares each request a task wake-up. A handler that does wait is
        handed to the serving task, which finishes it and serves what is queued after it.
        """
        loop = self._loop
        task = self._serve_task
        context = self._context
        assert task is not None and context is not None
        try:
            _enter_task(loop, task)
        except RuntimeError:  # called from inside a running task: let the serving task do it
            self._start()
            return
        queue = self._queue
        server = self._server
        track_idle = server.max_idle_connections is not None
        if track_idle:
            server.connection_busy(self)
        try:
            while queue and not self._closing:
                request = queue.popleft()
                if self._paused_reading and len(queue) <= server.max_pipelined // 2:
                    self.resume_reading()
                self._request = request
                self._task = task
                driver = self._driver
                if driver is None:
                    driver = self._driver = _new_driver()
                # Each request in its own copy of the connection's context, as aiohttp runs
                # each in its own task: what one handler sets is not seen by the next.
                request_context = context.copy()
                try:
                    awaited = request_context.run(_driver_send, driver, server.respond(request))
                except BaseException as exc:
                    self._driver = None  # finished by the exception
                    if not isinstance(exc, asyncio.CancelledError):
                        raise
                    # A handler raised it: nothing answers this request, so nothing may
                    # follow it on this connection; as in _serve, the connection closes.
                    self._request = None
                    self._task = None
                    self._close()
                    return
                if awaited is _DONE:
                    self._request = None
                    self._task = None
                    self._last_activity = loop.time()
                    if not self._keep_serving(request):
                        return
                    continue
                self._driver = None  # busy: the serving task finishes it
                self._handoff = _Resume(driver, awaited, request_context)
                self._start()  # wakes the serving task, which resumes the handler
                return
        finally:
            _leave_task(loop, task)
            if track_idle and self._task is None and not self._closing:
                server.connection_idle(self)

    async def _serve(self) -> None:
        """Handle queued requests in order for the life of the connection."""
        queue = self._queue
        server = self._server
        loop = self._loop
        track_idle = server.max_idle_connections is not None
        try:
            while not self._closing:
                handoff = self._handoff
                if handoff is not None:  # a handler started eagerly, now waiting
                    self._handoff = None
                    request = self._request
                    assert request is not None
                    try:
                        await handoff
                    finally:
                        self._request = None
                        self._task = None
                        self._last_activity = loop.time()
                    if not self._keep_serving(request):
                        return
                    continue
                if not queue:
                    self._waiter = loop.create_future()
                    if track_idle:
                        server.connection_idle(self)
                        if self._closing:
                            return
                    await self._waiter
                    if track_idle:
                        server.connection_busy(self)
                    continue
                request = queue.popleft()
                if self._paused_reading and len(queue) <= server.max_pipelined // 2:
                    self.resume_reading()
                self._request = request
                self._task = self._serve_task
                context = self._context
                assert context is not None
                try:
                    await _Resume(server.respond(request), _NOT_STARTED, context.copy())
                finally:
                    self._request = None
                    self._task = None
                    self._last_activity = loop.time()
                if not self._keep_serving(request):
                    return
        except asyncio.CancelledError:
            # A handler raised it or the task was cancelled: the request in hand (if any)
            # gets no answer, so the connection closes (as aiohttp's does), rather than
            # leaving the client waiting and later requests answered out of turn.
            handoff, self._handoff = self._handoff, None
            if handoff is not None:
                handoff.close()  # its finally blocks run now
            self._close()
        finally:
            self._serve_task = None

    def _keep_serving(self, request: BaseRequest) -> bool:
        """After a response: whether this connection goes on to its next request."""
        # The usual keep-alive case needs nothing from _finish_message: skip the call.
        if (
            request._payload is not EMPTY_PAYLOAD
            or not self._keep_alive
            or self._pending_error is not None
            or self._upgraded
            or self._eof_received
            or self._closing
            or self._paused_reading
        ):
            return self._finish_message(request)
        return True

    def _finish_message(self, request: BaseRequest) -> bool:
        """After a response: keep the connection for the next request, or close it."""
        if self._closing or self.transport is None:
            return False
        pending = self._pending_error
        if pending is not None and not self._queue:
            # Everything parsed before the fault is answered; now the fault itself.
            exc, answer = pending
            if answer and self._keep_alive and self._eof_sent:
                self._write_error(exc)
            self._close()
            return False
        if self._upgraded:
            self._close()
            return False
        payload = request._payload
        if not payload.is_eof():
            # The handler left part of the body unread. Drop a small remainder as it arrives
            # and keep the connection; anything else (unknown or large size, or a client
            # still waiting for 100-continue) ends the connection.
            head = request._head
            length = head.content_length
            if (
                not self._keep_alive
                or length is None
                or length - payload.total_bytes > DISCARD_LIMIT
                or (head.expect and not payload.total_bytes)
                or self._receiving is not payload
            ):
                self._linger()
                return False
            self._receiving = None  # on_body drops what is still to come
        if not self._keep_alive or (self._eof_received and not self._queue):
            self._close()
            return False
        if self._paused_reading and not self._queue:
            self.resume_reading()
        return True

    def _linger(self) -> None:
        """Close after a response while the client may still be sending a body.

        Closing a socket with unread input resets it, and a reset can destroy the response
        still in flight; so half-close, drop what arrives, and close on the client's EOF or
        after ``lingering_time``.
        """
        transport = self.transport
        assert transport is not None
        self._closing = True  # data_received drops everything from now on
        self._receiving = None
        if not transport.can_write_eof():
            transport.close()
            return
        self.resume_reading()
        transport.write_eof()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self._server.lingering_time, self._close)

    def _protocol_error(self, exc: HttpProtocolError) -> None:
        self._server.log_protocol_error(self, exc)
        self._parser = _DEAD_PARSER  # nothing after the fault is ever parsed
        answer = True
        receiving = self._receiving
        if receiving is not None:
            # The fault is inside a body: its request cannot be answered meaningfully.
            self._receiving = None
            receiving.set_exception(ConnectionResetError(exc.message))
            queue = self._queue
            if queue and queue[-1]._payload is receiving:
                queue.pop()
            else:
                answer = False  # the request being handled owns it; its handler decides
        if self._task is None and not self._queue:
            if self.transport is not None:
                self._write_error(exc)
            self._close()
            return
        # Requests parsed before the fault are answered first (see _finish_message).
        self._pending_error = (exc, answer)
        if self._task is None:
            self._start()

    def _write_error(self, exc: HttpProtocolError) -> None:
        assert self.transport is not None
        body = f"{exc.status} {exc.reason}: {exc.message}".encode("utf-8", "replace")
        head = serialize_response_head(
            (1, 1),
            exc.status,
            exc.reason,
            (
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
                ("Date", http_date_now()),
            ),
        )
        self.transport.write(head + body)

    def _close(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.close()

    def close_idle(self) -> bool:
        """Close the connection if no request is in progress (graceful shutdown)."""
        if self._task is None and not self._queue:
            self._close()
            return True
        self._keep_alive = False
        return False

    # Timeouts --------------------------------------------------------------------------------

    def _arm_timer(self, when: float) -> None:
        self._timer = self._loop.call_at(when, self._check_timeouts)

    def _check_timeouts(self) -> None:
        self._timer = None
        if self._closing or self.transport is None:
            return
        server = self._server
        now = self._loop.time()
        if self._head_started is not None and self._task is None:
            deadline = self._head_started + server.header_timeout
            if now >= deadline and not self._queue:
                # Slow client: a head (or, on a new connection, any request) did not
                # arrive in time.
                self._close()
                return
        else:
            deadline = now + server.header_timeout
        if self._task is None and not self._queue and not self._parser.in_head:
            idle_deadline = self._last_activity + server.keepalive_timeout
            if now >= idle_deadline:
                self._close()
                return
            deadline = min(deadline, idle_deadline)
        elif self._task is not None:
            deadline = now + server.keepalive_timeout
        self._arm_timer(max(deadline, now + 0.05))

    # Upgrade hand-off ------------------------------------------------------------------------

    def take_over(self) -> tuple[asyncio.Transport, bytes]:
        """Hand the transport and any bytes after the upgrade request to another protocol."""
        assert self.transport is not None
        self._upgraded = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        tail, self._upgrade_tail = self._upgrade_tail, b""
        return self.transport, tail
