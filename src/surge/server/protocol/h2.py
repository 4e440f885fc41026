"""HTTP/2 server connection: many concurrent request streams on one transport.

Invariants:
- Each stream is one request, handled through ``Server.respond`` with an :class:`H2Stream`
  (:mod:`.h2_stream`) as the request's protocol and writer; its handler runs as
  :mod:`.h2_pool` describes.
- A stream whose buffered data makes no progress for ``send_timeout`` (a peer that never
  opens its window) is reset and its buffer dropped.
- While the transport is paused for writing, input is paused too: a peer that does not read
  cannot make us queue ACKs or responses without bound.
- Graceful shutdown sends GOAWAY and lets open streams finish.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import TYPE_CHECKING

from h2.errors import ErrorCodes

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
from surge.net.streams import EMPTY_PAYLOAD
from surge.net.trailers import TrailerStreamReader, decode_fields
from surge.server.protocol.h2_pool import StreamTasks, _Worker
from surge.server.protocol.h2_stream import _HIGH_WATER, H2Stream

if TYPE_CHECKING:
    from surge.server.request import BaseRequest
    from surge.server.server import Server

__all__ = ["H2ServerProtocol", "H2Stream"]


class H2ServerProtocol(StreamTasks, asyncio.Protocol):
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
