"""HTTP/2 server connection: many concurrent request streams on one transport.

Invariants:
- Each stream is one request, handled through ``Server.respond`` with an :class:`H2Stream` as
  the request's protocol and writer (the same interface as the HTTP/1.1 protocol's, so every
  response type works unchanged), in its own copy of the connection's context.
- A handler starts in ``data_received`` under the name of an idle serving task of the
  connection (``asyncio.current_task()``); one that finishes without waiting costs no task
  and no loop iteration. One that waits is handed to that task, which leaves the idle pool
  until the handler is done: each waiting handler has a task of its own, as if it had been
  started with ``create_task``, so cancelling it (a timeout, a reset) reaches only it.
- A request body is acknowledged (WINDOW_UPDATE) as the handler consumes it: when its
  StreamReader pauses, acknowledgements stop, so a slow handler back-pressures its peer.
- ``write`` sends what the peer's window allows at once and buffers the rest; the returned
  awaitable waits while too much is buffered. A stream whose buffered data makes no progress
  for ``send_timeout`` (a peer that never opens its window) is reset and its buffer dropped.
- While the transport is paused for writing, input is paused too: a peer that does not read
  cannot make us queue ACKs or responses without bound.
- Graceful shutdown sends GOAWAY and lets open streams finish.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any

from h2.errors import ErrorCodes
from multidict import CIMultiDict

from surge.http.h1.parser import RequestHead
from surge.http.h2.connection import H2ServerConnection
from surge.http.h2.events import (
    ConnectionEnded,
    RequestData,
    RequestEnded,
    RequestReceived,
    StreamReset,
    StreamWritable,
    TrailersReceived,
)
from surge.http.h2.settings import H2Limits
from surge.http.version import HttpVersion20
from surge.net.streams import EMPTY_PAYLOAD, StreamReader
from surge.net.trailers import TrailerStreamReader, decode_fields
from surge.server.protocol.h2_websocket import H2WebSocketTransport, server_handshake
from surge.server.protocol.handoff import Resume
from surge.server.protocol.writer import READY, ResponseWriter

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from surge.http.ws.handshake import ServerHandshake
    from surge.server.request import BaseRequest
    from surge.server.server import Server

__all__ = ["H2ServerProtocol", "H2Stream"]

# Hop-by-hop headers have no meaning in HTTP/2 and must not be sent (RFC 9113 section 8.2.2).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)
_STATUS = {code: str(code).encode("ascii") for code in (200, 201, 204, 301, 302, 304, 400, 404)}
# Response header names as HTTP/2 wants them (lowercase bytes; b"" for hop-by-hop ones),
# computed once per distinct name.
_NAMES: dict[str, bytes] = {}
_NAMES_MAX = 512


def _field_name(name: str) -> bytes:
    lname = name.lower()
    encoded = b"" if lname in _HOP_BY_HOP else lname.encode("latin-1")
    if len(_NAMES) < _NAMES_MAX:
        _NAMES[name] = encoded
    return encoded


# A writer waits while more than this is buffered for its stream.
_HIGH_WATER = 2**16
# Idle serving tasks kept per connection (tasks freed by waiting handlers come back to it).
_IDLE_MAX = 16


_DONE: Any = object()  # a handler started eagerly finished without waiting


class _FirstStep:
    """A bare yield: where a serving task's coroutine is left when primed (see _spawn)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


_FIRST_STEP = _FirstStep()


class _StreamTransport:
    """``request.transport`` on HTTP/2: the connection's details, but no socket and no write.

    Bytes put on the socket directly (sendfile, a raw ``transport.write``) would break the
    framing shared by every stream; file bodies fall back to the stream's ``write``.
    """

    __slots__ = ("_stream",)

    def __init__(self, stream: H2Stream) -> None:
        self._stream = stream

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self._stream._proto.transport
        if name == "socket" or transport is None:
            return default
        return transport.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._stream.writer_closing


class H2Stream(ResponseWriter):
    """One request/response exchange: the request's writer and its body's flow control."""

    __slots__ = (
        "_drain_waiter",
        "_eof_sent",
        "_head_only",
        "_headers_sent",
        "_loop",
        "_paused",
        "_progress",
        "_proto",
        "_unacked",
        "closed",
        "connect_protocol",
        "handler_done",
        "payload",
        "request",
        "stream_id",
        "task",
        "tunnel",
    )

    def __init__(self, proto: H2ServerProtocol, stream_id: int) -> None:
        self._proto = proto
        self._loop = proto._loop
        self.stream_id = stream_id
        self.payload: StreamReader = EMPTY_PAYLOAD
        self.request: BaseRequest | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        self.handler_done = False
        self._paused = False
        self._unacked = 0
        self._drain_waiter: asyncio.Future[None] | None = None
        self._eof_sent = False
        self._head_only = False
        self._headers_sent = False
        self._progress = 0.0
        self.connect_protocol: bytes | None = None  # :protocol of an extended CONNECT
        self.tunnel: H2WebSocketTransport | None = None  # once a WebSocket took the stream

    @property
    def transport(self) -> _StreamTransport | None:
        return None if self._proto.transport is None else _StreamTransport(self)

    # FlowControl (called by the body StreamReader) -----------------------------------------

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        if self._unacked:
            size, self._unacked = self._unacked, 0
            self._proto._core.acknowledge(self.stream_id, size)
            self._proto._flush()

    def _on_data(self, data: bytes, flow_length: int) -> None:
        if self.tunnel is not None:
            self.tunnel.feed_data(data, flow_length)
            return
        payload = self.payload
        if payload is not EMPTY_PAYLOAD and not payload.is_eof():
            payload.feed_data(data)
        if self._paused:
            self._unacked += flow_length
        else:
            self._proto._core.acknowledge(self.stream_id, flow_length)

    # WebSocket over this stream (RFC 8441; see h2_websocket) ---------------------------------

    def check_websocket(
        self,
        method: str,
        headers: Mapping[str, str],
        *,
        protocols: Iterable[str] = (),
        compress: bool = True,
    ) -> ServerHandshake:
        """The opening handshake check ``WebSocketResponse`` runs on this stream."""
        return server_handshake(
            self.connect_protocol, method, headers, protocols=protocols, compress=compress
        )

    def take_over(self) -> tuple[H2WebSocketTransport, bytes]:
        """The stream as a WebSocket's transport, with the data that came before."""
        tunnel = self.tunnel = H2WebSocketTransport(self)
        payload = self.payload
        tail = b"" if payload is EMPTY_PAYLOAD else payload.read_nowait()
        if payload is not EMPTY_PAYLOAD and payload.is_eof():
            self._loop.call_soon(tunnel.feed_eof)
        return tunnel, tail

    @property
    def _server(self) -> Server:
        return self._proto._server  # where a WebSocket registers for shutdown

    def connection_lost(self, exc: BaseException | None) -> None:
        """The WebSocket on this stream is over (its transport's end already did the work)."""

    # ResponseWriter (called by StreamResponse) -------------------------------------------

    @property
    def writer_closing(self) -> bool:
        return self.closed or self._proto.transport is None

    def send_head(
        self,
        request: BaseRequest,
        status: int,
        reason: str | None,
        headers: CIMultiDict[str],
        *,
        keep_alive: bool | None,
        chunked: bool,
        body: bytes | None = None,
    ) -> int:
        """Send the HEADERS frame (and ``body`` when the whole body is known); 0: the size
        of an HPACK-coded head depends on the connection's table, so it is not counted."""
        if self.closed or self._proto.transport is None:
            raise ConnectionResetError("Stream closed")
        if self._headers_sent:
            # A second head (an error page after a failed stream): the response is broken.
            self._close()
            raise ConnectionResetError("Response head already sent")
        if status == 101 and self.connect_protocol is not None:
            status = 200  # a WebSocket accepted on an extended CONNECT stream (RFC 8441)
        no_body = status in (204, 304) or status < 200
        head_only = no_body or request._head.method == "HEAD"
        fields = [(b":status", _STATUS.get(status) or str(status).encode("ascii"))]
        has_date = has_length = False
        names = _NAMES
        for name, value in headers.items():
            lname = names.get(name)
            if lname is None:
                lname = _field_name(name)
            if not lname:
                continue  # hop-by-hop
            if lname == b"date":
                has_date = True
            elif lname == b"content-length":
                has_length = True
            fields.append((lname, value.encode("utf-8")))
        if not has_date:
            fields.append((b"date", self._proto._server.date_line[6:-2]))  # b"Date: ...\r\n"
        if body is not None and not no_body and not has_length:
            fields.append((b"content-length", str(len(body)).encode("ascii")))
        core = self._proto._core
        self._headers_sent = True
        self._head_only = head_only
        if head_only:
            body = b""
        if body is not None:
            self._eof_sent = True
        if core.send_response(self.stream_id, fields, body):
            self._progress = self._loop.time()  # the stall clock starts with the backlog
        self._proto._flush(len(body) if body else 0)
        return 0

    def send_simple(
        self,
        request: BaseRequest,
        status: int,
        reason: str | None,
        content_type: str,
        body: bytes,
        keep_alive: bool | None,
    ) -> int:
        """``send_head`` for a whole response whose only header is Content-Type: the field
        list built directly, without a header multidict."""
        if (
            self.closed
            or self._headers_sent
            or self._proto.transport is None
            or status < 200
            or status in (204, 304)
            or self.connect_protocol is not None
        ):
            return super().send_simple(request, status, reason, content_type, body, keep_alive)
        head_only = request._head.method == "HEAD"
        fields = [
            (b":status", _STATUS.get(status) or str(status).encode("ascii")),
            (b"content-type", content_type.encode("utf-8")),
            (b"date", self._proto._server.date_line[6:-2]),  # b"Date: ...\r\n"
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        self._headers_sent = True
        self._head_only = head_only
        self._eof_sent = True
        if head_only:
            body = b""
        if self._proto._core.send_response(self.stream_id, fields, body):
            self._progress = self._loop.time()  # the stall clock starts with the backlog
        self._proto._flush(len(body))
        return 0

    def write(self, data: bytes) -> Awaitable[None]:
        if self.closed or self._proto.transport is None:
            raise ConnectionResetError("Stream closed")
        if not data or self._head_only:
            return READY
        core = self._proto._core
        if not core.buffered(self.stream_id):
            self._progress = self._loop.time()  # the stall clock starts with the backlog
        buffered = core.send_data(self.stream_id, data)
        self._proto._flush(len(data))
        if buffered <= _HIGH_WATER and not self._proto._paused_writing:
            return READY
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._drain_waiter = self._loop.create_future()
        return waiter

    def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        self._eof_sent = True
        if self.closed or self._proto.transport is None:
            return
        self._proto._core.send_data(self.stream_id, data, end_stream=True)
        self._proto._flush(len(data))

    def write_trailers(self, data: bytes, trailers: CIMultiDict[str]) -> None:
        """End the body with ``data`` and then ``trailers`` (a trailing HEADERS frame)."""
        if self._eof_sent:
            return
        if self._head_only:
            self.write_eof(data)
            return
        fields = []
        for name, value in trailers.items():
            lname = _NAMES.get(name)
            if lname is None:
                lname = _field_name(name)
            if not lname:
                continue  # hop-by-hop
            if lname[:1] == b":":
                raise ValueError(f"Pseudo-header {name!r} cannot be a trailer")
            fields.append((lname, value.encode("utf-8")))
        if not fields:
            self.write_eof(data)
            return
        self._eof_sent = True
        if self.closed or self._proto.transport is None:
            return
        core = self._proto._core
        if not core.buffered(self.stream_id):
            self._progress = self._loop.time()
        core.send_trailers(self.stream_id, data, fields)
        self._proto._flush(len(data))

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("Stream closed")
        if self._proto._core.buffered(self.stream_id) > _HIGH_WATER or self._proto._paused_writing:
            waiter = self._drain_waiter
            if waiter is None:
                waiter = self._drain_waiter = self._loop.create_future()
            await waiter

    def send_continue(self) -> None:
        if not self.closed and not self._headers_sent:
            self._proto._core.send_headers(self.stream_id, [(b":status", b"100")])
            self._proto._flush()

    def _close(self) -> None:
        """The response failed after its head was sent: reset just this stream."""
        self._proto._reset_stream(self, ErrorCodes.INTERNAL_ERROR)

    # state changes -------------------------------------------------------------------------

    def _wake(self, exc: BaseException | None = None) -> None:
        if self.tunnel is not None and exc is None:
            self.tunnel.on_writable()
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)

    def _lost(self, reason: str) -> None:
        """The stream ended abnormally (reset, connection lost)."""
        self.closed = True
        payload = self.payload
        if payload is not EMPTY_PAYLOAD and not payload.is_eof():
            payload.set_exception(ConnectionResetError(reason))
        if self.request is not None:
            self.request._connection_lost()
        if self.tunnel is not None:
            self.tunnel.lost(ConnectionResetError(reason))
        self._wake(ConnectionResetError(reason))


class _Worker:
    """A serving task of one connection, and the handler handed to it (see the module doc)."""

    __slots__ = ("job", "stream", "task", "waiter")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.waiter: asyncio.Future[None] | None = None  # set while idle
        self.job: Resume | None = None
        self.stream: H2Stream | None = None


def _leave_pool(idle: list[_Worker], worker: _Worker) -> None:
    if idle and idle[-1] is worker:
        idle.pop()
    elif worker in idle:
        idle.remove(worker)


class H2ServerProtocol(asyncio.Protocol):
    """The asyncio protocol of one HTTP/2 connection (after the preface or an h2c upgrade)."""

    _task = None  # Server.shutdown: no single task; streams are cancelled by _close

    def __init__(self, server: Server, limits: H2Limits | None = None) -> None:
        self._server = server
        self._loop = server.loop
        self._core = H2ServerConnection(limits or getattr(server, "http2_limits", None))
        self._streams: dict[int, H2Stream] = {}
        self.transport: asyncio.Transport | None = None
        self._paused_writing = False
        self._goaway_sent = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_activity = 0.0
        self._upgrading = False
        self._lingering = False
        self._flush_pending = False
        self._unflushed = 0
        # The context each stream's own copy is made from, and the idle serving tasks.
        self._context = contextvars.copy_context()
        self._idle: list[_Worker] = []

    # asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._server.connection_made(self)
        if not self._upgrading:
            self._core.initiate()
        self._last_activity = self._loop.time()
        self._write_out()
        self._arm_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.transport = None
        self._server.connection_lost(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for stream in list(self._streams.values()):
            stream._lost("Connection lost")
            if self._server.handler_cancellation and stream.task is not None:
                stream.task.cancel()
        self._streams.clear()
        idle, self._idle = self._idle, []
        for worker in idle:
            assert worker.task is not None
            worker.task.cancel()

    def pause_writing(self) -> None:
        self._paused_writing = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self.transport is not None:
            self.transport.resume_reading()
        for stream in list(self._streams.values()):
            if self._core.buffered(stream.stream_id) <= _HIGH_WATER:
                stream._wake()

    def eof_received(self) -> bool | None:
        if not self._streams or self._lingering:
            return None  # nothing in flight: let the transport close
        return True

    def data_received(self, data: bytes) -> None:
        now = self._loop.time()
        self._last_activity = now
        # What handlers started here send leaves in the _write_out at the end, not later.
        self._flush_pending = True
        started: list[H2Stream] = []
        for event in self._core.receive_data(data, now):
            if type(event) is RequestData:
                stream = self._streams.get(event.stream_id)
                if stream is not None:
                    stream._on_data(event.data, event.flow_length)
                else:
                    self._core.acknowledge(event.stream_id, event.flow_length)
            elif type(event) is RequestReceived:
                stream = self._open_stream(event.stream_id, event.head, event.end_stream)
                stream.connect_protocol = event.connect_protocol
                started.append(stream)
            elif type(event) is RequestEnded:
                stream = self._streams.get(event.stream_id)
                if stream is not None and stream.payload is not EMPTY_PAYLOAD:
                    stream.payload.feed_eof()
                    if stream.tunnel is not None:
                        stream.tunnel.feed_eof()
            elif type(event) is TrailersReceived:
                stream = self._streams.get(event.stream_id)
                if stream is not None and isinstance(stream.payload, TrailerStreamReader):
                    stream.payload.trailers = decode_fields(event.headers)
            elif type(event) is StreamWritable:
                stream = self._streams.get(event.stream_id)
                if stream is not None:
                    self._on_writable(stream, now)
            elif type(event) is StreamReset:
                stream = self._streams.pop(event.stream_id, None)  # the core has released it
                if stream is not None:
                    stream._lost("Stream reset by peer")
                    if self._server.handler_cancellation and stream.task is not None:
                        stream.task.cancel()
            elif type(event) is ConnectionEnded:
                self._write_out()
                self._abort_all()
                return
        for stream in started:
            if not stream.closed:  # opened and reset in one read: never start its handler
                self._start(stream)
        self._write_out()

    # streams ---------------------------------------------------------------------------------

    def _open_stream(self, stream_id: int, head: RequestHead, end_stream: bool) -> H2Stream:
        server = self._server
        stream = H2Stream(self, stream_id)
        if not end_stream:
            stream.payload = TrailerStreamReader(stream, server.read_bufsize, loop=self._loop)
        stream.request = server.request_factory(head, stream.payload, stream)
        self._streams[stream_id] = stream
        return stream

    def prepare_upgrade(self, settings_header: bytes) -> bool:
        """Before ``connection_made``: start from an ``Upgrade: h2c`` request's settings."""
        self._upgrading = self._core.initiate_upgrade(settings_header)
        return self._upgrading

    def adopt_upgrade(self, request: BaseRequest) -> H2Stream:
        """Stream 1 answers the HTTP/1.1 request that asked for ``Upgrade: h2c``."""
        stream = H2Stream(self, 1)
        request._head.version = HttpVersion20
        request._head.upgrade = False
        request._protocol = stream
        request._writer = stream
        stream.request = request
        self._streams[1] = stream
        return stream

    def _start(self, stream: H2Stream) -> None:
        """Run the stream's handler here, under an idle serving task's name, until it
        finishes or waits; a waiting handler is handed to that task."""
        loop = self._loop
        idle = self._idle
        worker = idle[-1] if idle else self._spawn()
        task = worker.task
        assert task is not None and stream.request is not None
        try:
            _enter_task(loop, task)
        except RuntimeError:  # called from inside a running task: no eager start
            stream.task = loop.create_task(self._serve_stream(stream))
            return
        context = self._context.copy()  # each stream's own, as a task per stream would have
        coro = self._server.respond(stream.request)
        try:
            awaited = context.run(coro.send, None)
        except (StopIteration, asyncio.CancelledError):
            awaited = _DONE
        except Exception as exc:
            awaited = _DONE
            self._report(exc)
        finally:
            _leave_task(loop, task)
        if awaited is _DONE:  # finished without waiting
            if task.cancelling():  # it cancelled its task: that one leaves the pool
                _leave_pool(idle, worker)
            self._finish_stream(stream)
            return
        _leave_pool(idle, worker)
        worker.job = Resume(coro, awaited, context)
        worker.stream = stream
        stream.task = task
        waiter = worker.waiter
        if waiter is not None and not waiter.done():  # (cancelled: the job gets it)
            waiter.set_result(None)

    def _spawn(self) -> _Worker:
        """One more idle serving task. Its coroutine is started here, up to a bare yield, so
        that a cancellation before the task's first step still lands inside it."""
        worker = _Worker()
        coro = self._work(worker)
        coro.send(None)
        worker.task = self._loop.create_task(coro, context=self._context)
        self._idle.append(worker)
        return worker

    async def _work(self, worker: _Worker) -> None:
        """An idle serving task: finishes the handlers _start hands over, one at a time, and
        is idle in between; it ends when cancelled while idle or after a cancelled job."""
        idle = self._idle
        waiting: Any = _FIRST_STEP
        while True:
            try:
                await waiting
            except asyncio.CancelledError as exc:
                job = worker.job
                if job is None:
                    if worker in idle:
                        idle.remove(worker)
                    return
                job.throw(exc)  # the handler cancelled its task, then waited
            finally:
                worker.waiter = None
            job = worker.job
            if job is not None:
                stream = worker.stream
                assert stream is not None
                worker.job = worker.stream = None
                try:
                    await job
                except asyncio.CancelledError:
                    pass
                except Exception as exc:
                    self._report(exc)
                finally:
                    self._finish_stream(stream)
                task = worker.task
                assert task is not None
                if task.cancelling() or self.transport is None or len(idle) >= _IDLE_MAX:
                    return
                idle.append(worker)
            waiting = worker.waiter = self._loop.create_future()

    def _report(self, exc: Exception) -> None:
        self._loop.call_exception_handler(
            {"message": "Unhandled exception in an HTTP/2 stream", "exception": exc}
        )

    async def _serve_stream(self, stream: H2Stream) -> None:
        request = stream.request
        assert request is not None
        try:
            await self._server.respond(request)
        except asyncio.CancelledError:
            pass
        finally:
            self._finish_stream(stream)

    def _finish_stream(self, stream: H2Stream) -> None:
        stream.handler_done = True
        stream.task = None
        if (
            stream._eof_sent
            and stream.payload is EMPTY_PAYLOAD
            and not stream.closed
            and self.transport is not None
        ):
            # The usual end: the whole response is queued (and its flush due), no body came.
            core = self._core
            if not core.buffered(stream.stream_id):
                self._streams.pop(stream.stream_id, None)
                core.release(stream.stream_id)
            if self._goaway_sent:
                self._maybe_close()
            return
        if stream.closed or self.transport is None:
            self._drop(stream)
            self._maybe_close()
            return
        if not stream._eof_sent:
            if stream._headers_sent:
                stream.write_eof()
            else:
                self._reset_stream(stream, ErrorCodes.INTERNAL_ERROR)
                return
        payload = stream.payload
        if payload is not EMPTY_PAYLOAD and not payload.is_eof():
            # The client is still sending a body nobody will read: tell it to stop.
            self._core.reset(stream.stream_id, ErrorCodes.NO_ERROR)
            stream.closed = True
        if stream._unacked:
            self._core.acknowledge(stream.stream_id, stream._unacked)
            stream._unacked = 0
        if stream.closed or not self._core.buffered(stream.stream_id):
            self._drop(stream)
        self._flush()
        self._maybe_close()

    def _drop(self, stream: H2Stream) -> None:
        self._streams.pop(stream.stream_id, None)
        self._core.release(stream.stream_id)

    def _on_writable(self, stream: H2Stream, now: float) -> None:
        stream._progress = now
        buffered = self._core.buffered(stream.stream_id)
        if buffered <= _HIGH_WATER and not self._paused_writing:
            stream._wake()
        if not buffered and stream.handler_done:
            self._drop(stream)
            self._maybe_close()

    def _reset_stream(self, stream: H2Stream, code: int) -> None:
        self._core.reset(stream.stream_id, code)
        self._drop(stream)
        stream._lost("Stream reset")
        self._flush()
        self._maybe_close()

    # output and lifecycle --------------------------------------------------------------------

    def _flush(self, size: int = 0) -> None:
        """Send what the core has queued, once per loop iteration: the responses of all the
        streams that finished in this iteration leave in one ``transport.write``.

        ``size`` counts body bytes queued; past _HIGH_WATER they go out at once, so a writer
        that never yields to the loop still meets the transport's flow control.
        """
        if size:
            self._unflushed += size
            if self._unflushed > _HIGH_WATER:
                self._write_out()
                return
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._write_out)

    def _write_out(self) -> None:
        self._flush_pending = False
        self._unflushed = 0
        data = self._core.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)

    def _maybe_close(self) -> None:
        transport = self.transport
        if self._goaway_sent and not self._streams and transport is not None:
            self._write_out()
            # Half-close and wait for the peer's EOF (or lingering_time): closing with its
            # frames still unread would reset the connection and could destroy our last ones.
            if self._lingering or not transport.can_write_eof():
                transport.close()
                return
            self._lingering = True
            transport.write_eof()
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_later(self._server.lingering_time, transport.close)

    def _abort_all(self) -> None:
        """The connection is over (GOAWAY either way): fail every stream and close."""
        for stream in list(self._streams.values()):
            stream._lost("Connection closed")
        self._streams.clear()
        if self.transport is not None:
            self._write_out()
            self.transport.close()

    def close_idle(self) -> bool:
        """Graceful shutdown: send GOAWAY once; True when no stream is left open."""
        if not self._goaway_sent:
            self._goaway_sent = True
            self._core.goaway()
            self._write_out()
        if not self._streams:
            self._close()
            return True
        return False

    def _close(self) -> None:
        for stream in list(self._streams.values()):
            if stream.task is not None:
                stream.task.cancel()
        if self.transport is not None:
            self._write_out()
            self.transport.close()

    # timeouts --------------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        limits = self._core.limits
        interval = min(self._server.keepalive_timeout, limits.send_timeout) / 2
        self._timer = self._loop.call_later(max(interval, 0.05), self._check_timeouts)

    def _check_timeouts(self) -> None:
        self._timer = None
        if self.transport is None:
            return
        now = self._loop.time()
        if not self._streams:
            if now - self._last_activity >= self._server.keepalive_timeout:
                self.close_idle()
                return
        else:
            send_timeout = self._core.limits.send_timeout
            for stream in list(self._streams.values()):
                if self._core.buffered(stream.stream_id) and now - stream._progress >= send_timeout:
                    # The peer keeps its window shut: drop what we hold for it.
                    self._reset_stream(stream, ErrorCodes.CANCEL)
            self._last_activity = now
        self._arm_timer()
