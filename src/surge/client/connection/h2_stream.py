"""One request as a stream of an HTTP/2 client connection (see ``connection/h2.py``).

:class:`H2Stream` has the interface the request driver uses on an :class:`H1Connection`
(``start``/``write``/``drain``/``wait_continue``/``close`` and the pool's attributes): ``start``
reads the HTTP/1.1 head the driver serialised (surge's own, already validated) and sends it as
HEADERS; a body framed as chunked is unframed again. The response head becomes a
``ResponseHead`` (version 2.0) and the body flows into a StreamReader whose pauses hold back
WINDOW_UPDATEs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

from h2.errors import ErrorCodes
from h2.exceptions import H2Error
from hpack import NeverIndexedHeaderTuple

from surge.client.connection.h1 import ResponseSettings, ResponseStart
from surge.client.exceptions import (
    ClientPayloadError,
    ServerDisconnectedError,
    ServerTimeoutError,
    SocketTimeoutError,
)
from surge.http.content.codecs import Decoder, DecompressionError, make_decoder
from surge.http.h1.response_parser import ResponseHead
from surge.http.version import HttpVersion20
from surge.net.trailers import TrailerStreamReader, decode_fields

if TYPE_CHECKING:
    from surge.client.connection.h2 import H2ClientConnection

__all__ = ["H2Stream"]

_HIGH_WATER = 2**16  # drain() waits while more request body than this awaits window
_SENSITIVE = frozenset({b"authorization", b"proxy-authorization"})
# Headers that mean nothing (or something wrong) in HTTP/2 (RFC 9113 section 8.2.2).
_DROP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"host"}
)


class H2Stream:
    """One request's stream; the request driver uses it as it uses an H1Connection."""

    multiplexed = True

    __slots__ = (
        "_auto_decompress",
        "_body_left",
        "_chunked",
        "_conn",
        "_continue",
        "_deadline_timer",
        "_decoder",
        "_drain_waiter",
        "_end_after",
        "_head",
        "_head_waiter",
        "_last_read",
        "_max_decompressed",
        "_paused",
        "_pending",
        "_pending_end",
        "_pending_size",
        "_progress",
        "_read_bufsize",
        "_read_timeout",
        "_read_timer",
        "_reader",
        "_received",
        "_released",
        "_unacked",
        "busy",
        "closed",
        "got_bytes",
        "on_complete",
        "reused",
        "stream_id",
    )

    def __init__(self, conn: H2ClientConnection) -> None:
        self._conn = conn
        self.stream_id: int | None = None
        self.busy = False
        self.closed = False
        self.got_bytes = False
        self.reused = conn.completed
        self.on_complete: Callable[[bool], None] | None = None
        self._head: ResponseHead | None = None
        self._head_waiter: asyncio.Future[ResponseStart] | None = None
        self._continue: asyncio.Future[None] | None = None
        self._reader: TrailerStreamReader | None = None
        self._decoder: Decoder | None = None
        self._auto_decompress = True
        self._max_decompressed = 0
        self._read_bufsize = 2**16
        self._progress: Callable[[int, int | None], object] | None = None
        self._received = 0
        self._paused = False
        self._unacked = 0
        self._chunked = False
        self._body_left: int | None = None
        self._end_after = False
        self._pending: deque[bytes] = deque()
        self._pending_size = 0
        self._pending_end = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._read_timeout: float | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._released = False

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._conn.transport

    # the exchange (H1Connection's interface) -------------------------------------------------

    def start(
        self,
        data: bytes,
        head_request: bool,
        settings: ResponseSettings,
        deadline: float | None = None,
        expect_continue: bool = False,
    ) -> asyncio.Future[ResponseStart]:
        """Send the request ``data`` (an HTTP/1.1 head, maybe with body bytes) as a stream,
        the response read as ``settings`` say (as :meth:`H1Connection.start`)."""
        conn = self._conn
        loop = conn._loop
        self.busy = True
        self._auto_decompress = settings.auto_decompress
        self._max_decompressed = settings.max_decompressed
        self._read_bufsize = settings.read_bufsize
        self._progress = settings.download_progress
        sock_read = settings.sock_read
        waiter = self._head_waiter = loop.create_future()
        if expect_continue:
            self._continue = loop.create_future()
        if conn.closed or conn.transport is None:
            self._fail(ServerDisconnectedError("Connection closed"))
            return waiter
        end = data.index(b"\r\n\r\n")
        headers, has_body = self._request_headers(data[:end])
        body = data[end + 4 :]
        h2conn = conn._conn
        try:
            sid = self.stream_id = h2conn.get_next_available_stream_id()
            h2conn.send_headers(sid, headers, end_stream=not has_body)
        except H2Error as exc:
            self._fail(ServerDisconnectedError(f"Cannot open a stream: {exc}"))
            return waiter
        conn._streams[sid] = self
        self._read_timeout = sock_read
        if sock_read is not None:
            self._last_read = loop.time()
            self._read_timer = loop.call_later(sock_read, self._on_read_timer)
        if deadline is not None:
            self._deadline_timer = loop.call_at(deadline, self._on_deadline)
        if body:
            self.write(body)
        conn._flush()
        return waiter

    def _request_headers(self, head: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
        lines = head.split(b"\r\n")
        method, target, _ = lines[0].split(b" ", 2)
        authority = b""
        fields: list[tuple[bytes, bytes]] = []
        has_body = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            value = value.strip()
            if name in _DROP:
                if name == b"host":
                    authority = value
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    self._chunked = has_body = True
                continue
            if name == b"content-length":
                self._body_left = int(value)
                has_body = self._body_left > 0
                if not has_body:
                    continue
            elif name == b"te" and value.lower() != b"trailers":
                continue
            elif name in _SENSITIVE or (name == b"cookie" and len(value) < 20):
                # Never in the HPACK dynamic table: guessable secrets (as h2 and nghttp2 do).
                fields.append(NeverIndexedHeaderTuple(name, value))
                continue
            fields.append((name, value))
        pseudo = [(b":method", method), (b":scheme", self._conn._scheme)]
        if authority:
            pseudo.append((b":authority", authority))
        pseudo.append((b":path", target))
        self._end_after = has_body
        return pseudo + fields, has_body

    async def wait_continue(self) -> None:
        if self._continue is not None:
            await asyncio.shield(self._continue)

    def write(self, data: bytes) -> None:
        """Request body bytes (unframed from chunked encoding when the head said so)."""
        if self.closed or self.stream_id is None or not self._end_after:
            return
        end = False
        if self._chunked:
            data, end = _unchunk(data)
        elif self._body_left is not None:
            data = data[: self._body_left]
            self._body_left -= len(data)
            end = self._body_left == 0
        if data:
            self._pending.append(data)
            self._pending_size += len(data)
        if end:
            self._pending_end = True
            self._end_after = False
        self._send_pending()
        self._conn._flush()

    def _send_pending(self) -> None:
        sid = self.stream_id
        if sid is None or self.closed:
            return
        h2conn = self._conn._conn
        pending = self._pending
        try:
            while pending:
                window = min(h2conn.local_flow_control_window(sid), h2conn.max_outbound_frame_size)
                if window <= 0:
                    break
                chunk = pending[0]
                if len(chunk) > window:
                    pending[0] = chunk[window:]
                    chunk = chunk[:window]
                else:
                    pending.popleft()
                self._pending_size -= len(chunk)
                last = self._pending_end and not pending
                h2conn.send_data(sid, chunk, end_stream=last)
                if last:
                    self._pending_end = False
            if self._pending_end and not pending:
                self._pending_end = False
                h2conn.end_stream(sid)
        except H2Error:
            return
        if self._pending_size <= _HIGH_WATER:
            self._wake()
        self._conn._flush()

    async def drain(self) -> None:
        if self.closed:
            raise ServerDisconnectedError()
        if self._pending_size > _HIGH_WATER or self._conn._write_paused:
            waiter = self._drain_waiter
            if waiter is None:
                waiter = self._drain_waiter = self._conn._loop.create_future()
            await waiter

    def set_deadline(self, when: float) -> None:
        if self.busy:
            self._deadline_timer = self._conn._loop.call_at(when, self._on_deadline)

    # flow control of the response body (the StreamReader's protocol) ------------------------

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        self._paused = False
        if self._unacked and self.stream_id is not None:
            size, self._unacked = self._unacked, 0
            self._conn._ack(self.stream_id, size)
        if self._read_timer is not None:
            self._last_read = self._conn._loop.time()

    # ending ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Abandon the exchange: reset the stream if it is still running."""
        if self.busy and not self.closed:
            self._reset()
            reader = self._reader
            if reader is not None and not reader.is_eof():
                reader.set_exception(
                    ClientPayloadError("Connection closed before the body was complete")
                )
        self.on_complete = None
        self._finish()

    def abort(self) -> None:
        self.close()

    def _reset(self, code: int = ErrorCodes.CANCEL) -> None:
        sid = self.stream_id
        conn = self._conn
        if sid is not None and conn.transport is not None:
            with contextlib.suppress(H2Error):
                conn._conn.reset_stream(sid, code)
            conn._flush()

    def _finish(self) -> None:
        self.busy = False
        self.closed = True
        self._cancel_timers()
        self._wake()
        if not self._released:
            self._released = True
            self._conn._release(self)

    # events from the connection --------------------------------------------------------------

    def _on_head(self, headers: list[tuple[bytes, bytes]]) -> None:
        status = 0
        fields = []
        content_length = None
        encoding = None
        set_cookie = False
        for name, value in headers:
            if name[:1] == b":":
                if name == b":status":
                    status = int(value)
                continue
            if name == b"content-length":
                with contextlib.suppress(ValueError):
                    content_length = int(value)
            elif name == b"content-encoding":
                encoding = value
            elif name == b"set-cookie":
                set_cookie = True
            fields.append((name, value))
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        head = self._head = ResponseHead(
            status,
            reason,
            HttpVersion20,
            fields,
            True,
            False,
            False,
            content_length,
            encoding,
            set_cookie,
        )
        self.got_bytes = True
        self._on_continue()
        reader = self._reader = TrailerStreamReader(
            self, limit=self._read_bufsize, loop=self._conn._loop
        )
        if self._auto_decompress and encoding is not None:
            self._decoder = make_decoder(encoding.decode("latin-1"), self._max_decompressed)
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((head, reader))

    def _on_continue(self) -> None:
        waiter = self._continue
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_data(self, data: bytes, flow_length: int) -> None:
        self.got_bytes = True
        if self._read_timer is not None:
            self._last_read = self._conn._loop.time()
        reader = self._reader
        if self._paused:
            self._unacked += flow_length
        elif self.stream_id is not None:
            self._conn._ack(self.stream_id, flow_length)
        if reader is None or self.closed:
            return
        if self._progress is not None:
            self._received += len(data)
            assert self._head is not None
            self._progress(self._received, self._head.content_length)
        if self._decoder is not None:
            try:
                data = self._decoder.decompress(data)
            except DecompressionError as err:
                self._fail(ClientPayloadError(str(err)))
                self._reset()
                return
        if data:
            reader.feed_data(data)

    def _on_trailers(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Trailer fields after the body: ``response.trailers`` once the body is read."""
        reader = self._reader
        if reader is not None and not self.closed:
            reader.trailers = decode_fields(
                (name, value) for name, value in headers if name[:1] != b":"
            )

    def _on_end(self) -> None:
        reader = self._reader
        if reader is None or self.closed:
            self._fail(ServerDisconnectedError("Stream ended without a response"))
            return
        if self._decoder is not None:
            try:
                tail = self._decoder.flush()
            except DecompressionError as err:
                self._fail(ClientPayloadError(str(err)))
                return
            if tail:
                reader.feed_data(tail)
        self._conn.completed += 1
        callback = self.on_complete
        self.on_complete = None
        self._finish()
        reader.feed_eof()
        if callback is not None:
            callback(True)

    def _fail(self, exc: BaseException) -> None:
        waiter = self._head_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        elif self._reader is not None and not self._reader.is_eof():
            if not isinstance(exc, ClientPayloadError | ServerTimeoutError | SocketTimeoutError):
                exc = ClientPayloadError(f"Response payload is not completed: {exc}")
            self._reader.set_exception(exc)
        self._on_continue()
        self.on_complete = None
        self._finish()

    def _wake(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None and (self.closed or not self._conn._write_paused):
            self._drain_waiter = None
            if not waiter.done():
                if self.closed:
                    waiter.set_exception(ServerDisconnectedError())
                else:
                    waiter.set_result(None)

    # timers ----------------------------------------------------------------------------------

    def _cancel_timers(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    def _on_read_timer(self) -> None:
        timeout = self._read_timeout
        assert timeout is not None
        loop = self._conn._loop
        idle = loop.time() - self._last_read
        if self._paused or idle < timeout:
            wait = timeout if self._paused else timeout - idle
            self._read_timer = loop.call_later(wait, self._on_read_timer)
            return
        self._read_timer = None
        self._reset()
        self._fail(SocketTimeoutError(f"Timeout on reading data from socket after {timeout}s"))

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        if not self.busy:
            return
        self._reset()
        if self._head is None:
            self._fail(ServerTimeoutError("Timeout on waiting for the response"))
        else:
            self._fail(ServerTimeoutError("Timeout on reading the response body"))


def _unchunk(data: bytes) -> tuple[bytes, bool]:
    """The payload of complete chunks framed by surge's own chunked encoder; True at the
    last chunk."""
    out: list[bytes] = []
    pos = 0
    size_total = len(data)
    while pos < size_total:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";", 1)[0], 16)
        if size == 0:
            return b"".join(out), True
        start = eol + 2
        out.append(data[start : start + size])
        pos = start + size + 2
    return b"".join(out), False
