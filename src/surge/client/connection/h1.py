"""HTTP/1.1 client connection: an ``asyncio.Protocol`` running one exchange at a time.

Invariants:
- A connection is *idle* (in the pool, or fresh) or *busy* with one request. Bytes arriving
  while idle mean the server broke the protocol (or said goodbye): the connection closes.
- The response body flows into a fresh StreamReader per response; that reader's flow control
  goes through a per-response gate, so a reader kept after its message completed can never
  pause or resume a connection that already serves someone else.
- The connection is reusable only when the message completed cleanly, both sides want
  keep-alive and the body was not delimited by the close.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import cast

from surge.client.exceptions import (
    ClientPayloadError,
    ServerDisconnectedError,
    ServerTimeoutError,
    SocketTimeoutError,
)
from surge.http.content.codecs import Decoder, DecompressionError, make_decoder
from surge.http.errors import HttpProtocolError
from surge.http.h1.response_parser import H1ResponseParser, ResponseHead
from surge.net.streams import StreamReader

__all__ = ["H1Connection", "ResponseSettings", "ResponseStart"]

ResponseStart = tuple[ResponseHead, StreamReader]


class ResponseSettings:
    """How responses are read: limits, buffering, decompression, the read timeout. One
    object serves many exchanges (a session's defaults are built once)."""

    __slots__ = (
        "auto_decompress",
        "download_progress",
        "max_decompressed",
        "max_field",
        "max_headers",
        "max_line",
        "read_bufsize",
        "read_until_eof",
        "sock_read",
    )

    def __init__(
        self,
        *,
        max_line: int = 8190,
        max_field: int = 8190,
        max_headers: int = 128,
        read_bufsize: int = 2**16,
        auto_decompress: bool = True,
        max_decompressed: int = 0,
        read_until_eof: bool = True,
        sock_read: float | None = None,
        download_progress: Callable[[int, int | None], object] | None = None,
    ) -> None:
        self.max_line = max_line
        self.max_field = max_field
        self.max_headers = max_headers
        self.read_bufsize = read_bufsize
        self.auto_decompress = auto_decompress
        self.max_decompressed = max_decompressed
        self.read_until_eof = read_until_eof
        self.sock_read = sock_read
        self.download_progress = download_progress


_DEFAULT_SETTINGS = ResponseSettings()


class _Gate:
    """The flow-control handle a response's StreamReader holds."""

    __slots__ = ("conn",)

    def __init__(self, conn: H1Connection) -> None:
        self.conn: H1Connection | None = conn

    def pause_reading(self) -> None:
        if self.conn is not None:
            self.conn.pause_reading()

    def resume_reading(self) -> None:
        if self.conn is not None:
            self.conn.resume_reading()


class H1Connection(asyncio.Protocol):
    """One HTTP/1.1 connection to a server (client side)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.busy = False
        self.reused = 0  # how many exchanges this connection finished before
        self.got_bytes = False  # the current exchange received something
        self.on_complete: Callable[[bool], None] | None = None
        self._parser: H1ResponseParser | None = None
        self._head_waiter: asyncio.Future[ResponseStart] | None = None
        self._continue_waiter: asyncio.Future[None] | None = None
        self._stream: StreamReader | None = None
        self._gate: _Gate | None = None
        self._head: ResponseHead | None = None
        self._decoder: Decoder | None = None
        self._settings = _DEFAULT_SETTINGS
        self._failed = False
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        # One deadline timer per connection, not per request: it stays armed across
        # exchanges (deadlines only move later for a steady workload) and re-arms itself
        # for the current exchange's deadline when it fires early.
        self._deadline: float | None = None
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._deadline_at = 0.0
        self._received = 0

    # asyncio callbacks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A request head is one small write; Nagle would hold it for the previous ACK
            # (uvloop, unlike asyncio, does not turn it off).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self._cancel_timers()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ServerDisconnectedError())
        if not self.busy:
            return
        parser = self._parser
        if self._head_waiter is not None and not self._head_waiter.done():
            message = f"Server disconnected: {exc}" if exc is not None else None
            self._fail_head(ServerDisconnectedError(message))
        elif parser is not None and self._stream is not None and not self._failed:
            try:
                parser.feed_eof()
            except HttpProtocolError as err:
                self._fail_body(ClientPayloadError(str(err)))
        self.busy = False

    def data_received(self, data: bytes) -> None:
        if not self.busy or self._failed:
            # Nothing is expected: a late byte, a 408, or garbage. Never reuse this one.
            self.close()
            return
        self.got_bytes = True
        if self._read_timer is not None:
            self._last_read = self._loop.time()
        parser = self._parser
        assert parser is not None
        waiter = self._continue_waiter
        seen = parser.informational if waiter is not None else 0
        try:
            parser.feed(data)
        except HttpProtocolError as err:
            if self.busy:
                if self._head is None:
                    self._fail_head(err)
                else:
                    self._fail_body(ClientPayloadError(str(err)))
            # else: bytes after a complete response; the response stands, the connection goes.
            self.close()
            return
        if waiter is not None and parser.informational != seen and not waiter.done():
            waiter.set_result(None)
        if self._failed:
            self.close()

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # response sink -------------------------------------------------------------------------

    def on_response(self, head: ResponseHead) -> None:
        if not self.busy:
            raise HttpProtocolError("Data after the end of the response")
        self._head = head
        if self._continue_waiter is not None and not self._continue_waiter.done():
            self._continue_waiter.set_result(None)
        self._gate = _Gate(self)
        settings = self._settings
        stream = StreamReader(self._gate, limit=settings.read_bufsize, loop=self._loop)
        self._stream = stream
        if settings.auto_decompress and head.content_encoding is not None:
            self._decoder = make_decoder(
                head.content_encoding.decode("latin-1"), settings.max_decompressed
            )
            if self._decoder is not None:
                stream.total_compressed_bytes = 0
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((head, stream))

    def on_body(self, data: bytes) -> None:
        if self._failed:
            return
        stream = self._stream
        assert stream is not None
        progress = self._settings.download_progress
        if progress is not None:
            self._received += len(data)
            assert self._head is not None
            progress(self._received, self._head.content_length)
        if self._decoder is not None:
            stream.total_compressed_bytes = (stream.total_compressed_bytes or 0) + len(data)
            try:
                data = self._decoder.decompress(data)
            except DecompressionError as err:
                self._fail_body(ClientPayloadError(str(err)))
                return
        stream.feed_data(data)

    def on_response_complete(self) -> None:
        if self._failed:
            return
        stream = self._stream
        assert stream is not None and self._head is not None
        if self._decoder is not None:
            try:
                stream.feed_data(self._decoder.flush())
            except DecompressionError as err:
                self._fail_body(ClientPayloadError(str(err)))
                return
        reusable = self._head.keep_alive and not self.closed
        self._finish()
        stream.feed_eof()
        callback = self.on_complete
        self.on_complete = None
        if callback is not None:
            callback(reusable)

    # the exchange --------------------------------------------------------------------------

    def start(
        self,
        data: bytes,
        head_request: bool,
        settings: ResponseSettings,
        deadline: float | None = None,
        expect_continue: bool = False,
    ) -> asyncio.Future[ResponseStart]:
        """Send ``data`` (a request head, maybe with its body) and await the response head,
        read as ``settings`` say; the exchange fails with a timeout at loop time ``deadline``."""
        assert not self.busy and self.transport is not None
        self.busy = True
        self.got_bytes = False
        self._failed = False
        self._head = None
        self._stream = None
        self._decoder = None
        self._received = 0
        parser = self._parser
        if parser is None or (
            settings is not self._settings
            and (
                parser.max_line_size != settings.max_line
                or parser.max_field_size != settings.max_field
                or parser.max_headers != settings.max_headers
            )
        ):
            parser = self._parser = H1ResponseParser(
                self,
                head_request=head_request,
                read_until_eof=settings.read_until_eof,
                max_line_size=settings.max_line,
                max_field_size=settings.max_field,
                max_headers=settings.max_headers,
            )
        else:
            # llhttp parses the next response of a keep-alive connection with the same state.
            parser.head_request = head_request
            parser.read_until_eof = settings.read_until_eof
        self._settings = settings
        self._head_waiter = waiter = self._loop.create_future()
        self._continue_waiter = self._loop.create_future() if expect_continue else None
        sock_read = settings.sock_read
        if sock_read is not None:
            self._last_read = self._loop.time()
            self._read_timer = self._loop.call_later(sock_read, self._on_read_timer)
        self._deadline = deadline
        if deadline is not None:
            self._arm_deadline(deadline)
        self.transport.write(data)
        return waiter

    async def wait_continue(self) -> None:
        """Wait for ``100 Continue`` (or the final response) after ``Expect: 100-continue``."""
        if self._continue_waiter is not None:
            await asyncio.shield(self._continue_waiter)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ServerDisconnectedError()
        if self._write_paused:
            self._drain_waiter = waiter = self._loop.create_future()
            await waiter

    def set_deadline(self, when: float) -> None:
        """Fail the body with a timeout if it is not complete at loop time ``when``."""
        if self.busy:
            self._deadline = when
            self._arm_deadline(when)

    def pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
            if self._read_timer is not None:
                self._last_read = self._loop.time()

    def close(self) -> None:
        """Close the transport; an exchange in progress fails."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        if (
            self.busy
            and not self._failed
            and self._stream is not None
            and not self._stream.is_eof()
        ):
            self._fail_body(ClientPayloadError("Connection closed before the body was complete"))
        self.on_complete = None

    def abort(self) -> None:
        self.on_complete = None
        if self.transport is not None:
            self.transport.abort()

    # internals -----------------------------------------------------------------------------

    def _finish(self) -> None:
        self.busy = False
        self.reused += 1
        self._deadline = None  # the deadline timer stays armed for the next exchange
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        if self._gate is not None:
            self._gate.conn = None
            self._gate = None
        self.resume_reading()

    def _cancel_timers(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    def _fail_head(self, exc: BaseException) -> None:
        self._failed = True
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        if self._continue_waiter is not None and not self._continue_waiter.done():
            self._continue_waiter.set_result(None)

    def _fail_body(self, exc: BaseException) -> None:
        self._failed = True
        self._cancel_timers()
        if self._gate is not None:
            self._gate.conn = None
        if self._stream is not None:
            self._stream.set_exception(exc)
        self.on_complete = None

    def _on_read_timer(self) -> None:
        timeout = self._settings.sock_read
        assert timeout is not None
        idle = self._loop.time() - self._last_read
        if self._reading_paused or idle < timeout:
            wait = timeout if self._reading_paused else timeout - idle
            self._read_timer = self._loop.call_later(wait, self._on_read_timer)
            return
        self._read_timer = None
        error = SocketTimeoutError(f"Timeout on reading data from socket after {timeout}s")
        if self._head is None:
            self._fail_head(error)
        else:
            self._fail_body(error)
        self.abort()

    def _arm_deadline(self, when: float) -> None:
        timer = self._deadline_timer
        if timer is not None:
            if self._deadline_at <= when:
                return  # fires first, then re-arms for ``when``
            timer.cancel()
        self._deadline_at = when
        self._deadline_timer = self._loop.call_at(when, self._on_deadline)

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        deadline = self._deadline
        if not self.busy or deadline is None:
            return
        if self._loop.time() < deadline:
            self._arm_deadline(deadline)
            return
        if self._head is None:
            self._fail_head(ServerTimeoutError("Timeout on waiting for the response"))
        else:
            self._fail_body(ServerTimeoutError("Timeout on reading the response body"))
        self.abort()
