"""The response-writing side of the HTTP/1.1 connection: framing a head, body writes, drain.

Invariants:
- Framing is decided per response: Content-Length when the body is known, else chunked on
  HTTP/1.1, else the body ends when the connection closes; Date, Connection and
  Transfer-Encoding go straight to the wire, the response's own headers are not modified.
- ``write`` puts bytes on the transport at once and returns an awaitable for flow control, so
  an un-awaited write is still delivered in order.
- A small unread request body is drained after the response (the connection stays usable);
  a larger one makes the response say ``Connection: close``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from multidict import CIMultiDict, istr

from surge.http.h1.writer import LAST_CHUNK, chunk, response_head_prefix
from surge.http.version import HttpVersion11
from surge.net.streams import EMPTY_PAYLOAD
from surge.server.protocol.writer import READY, ResponseWriter

if TYPE_CHECKING:
    from surge.server.request import BaseRequest
    from surge.server.server import Server

__all__ = ["DISCARD_LIMIT", "H1ResponseWriter"]

_NO_BODY_STATUS = frozenset({204, 304})
_CONTENT_LENGTH = istr("Content-Length")
# Bodies at least this large are not copied into the head's buffer (see send_head).
_LARGE_BODY = 16384
_DATE = istr("Date")
_CONTENT_TYPE_NAME = istr("Content-Type")
# send_simple's heads: (status, reason, content type) -> status line and Content-Type line.
_SIMPLE_HEADS: dict[tuple[int, str | None, str], bytes] = {}
_SIMPLE_HEADS_SIZE = 1024
# An unread request body at most this large is read and discarded to keep the connection.
DISCARD_LIMIT = 2**16


class H1ResponseWriter(ResponseWriter):
    """What StreamResponse calls on an HTTP/1.1 connection (the connection's state is the
    protocol's, see ``H1ServerProtocol``)."""

    # The framing of the response being written (set up by the protocol's __init__).
    __slots__ = ("_chunked", "_drain_waiter", "_eof_sent", "_head_only", "_keep_alive")
    _chunked: bool
    _drain_waiter: asyncio.Future[None] | None
    _eof_sent: bool
    _head_only: bool
    _keep_alive: bool

    # The connection's own state, read here.
    transport: asyncio.Transport | None
    _server: Server
    _loop: asyncio.AbstractEventLoop
    _closing: bool
    _paused_writing: bool

    @property
    def writer_closing(self) -> bool:
        return self._closing or self.transport is None or self.transport.is_closing()

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
        """Write the response head (and ``body``, when the whole body is known); returns the
        head's size in bytes.

        Decides the framing: Content-Length when known, else chunked on HTTP/1.1, else the
        body ends when the connection closes. Date, Connection and Transfer-Encoding go
        straight to the wire; the response's own headers are not modified.
        """
        head = request._head
        version = head.version
        method = head.method
        head_only = status in _NO_BODY_STATUS or status < 200 or method == "HEAD"
        keep = (
            head.keep_alive
            and keep_alive is not False
            and not self._closing
            and not self._server.shutting_down
            and (request._payload is EMPTY_PAYLOAD or self._body_can_be_skipped(request))
        )
        parts = [response_head_prefix(version, status, reason, headers)]
        framed_chunked = False
        if _CONTENT_LENGTH in headers:
            if chunked:
                del headers[_CONTENT_LENGTH]
                parts[0] = response_head_prefix(version, status, reason, headers)
                framed_chunked = True
        elif body is not None:
            if not head_only or method == "HEAD":
                parts.append(b"Content-Length: %d\r\n" % len(body))
        elif not head_only:
            if chunked or version >= (1, 1):
                framed_chunked = True
            else:
                keep = False  # HTTP/1.0 without a length: the close ends the body
        self._chunked = framed_chunked
        if framed_chunked:
            parts.append(b"Transfer-Encoding: chunked\r\n")
        if _DATE not in headers:
            parts.append(self._server.date_line)
        if not keep:
            parts.append(b"Connection: close\r\n\r\n")
        elif version < (1, 1):
            parts.append(b"Connection: keep-alive\r\n\r\n")
        else:
            parts.append(b"\r\n")
        self._keep_alive = keep
        self._head_only = head_only
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        head_length = sum(map(len, parts))
        if body is not None:
            self._eof_sent = True
            if body and not head_only:
                if len(body) >= _LARGE_BODY:
                    # Head and body as two buffers of one vectored write: no copy of the body.
                    transport.writelines((b"".join(parts), body))
                    return head_length
                parts.append(body)
        else:
            self._eof_sent = False
        transport.write(b"".join(parts))
        return head_length

    def send_simple(
        self,
        request: BaseRequest,
        status: int,
        reason: str | None,
        content_type: str,
        body: bytes,
        keep_alive: bool | None,
    ) -> int:
        """A whole response whose only header is ``Content-Type`` (an untouched
        ``Response(text=...)``): the usual keep-alive HTTP/1.1 case is framed from a cached
        head, without a header multidict; anything else goes through ``send_head``."""
        head = request._head
        size = len(body)
        if (
            head.version is not HttpVersion11
            or head.method == "HEAD"
            or not head.keep_alive
            or keep_alive is False
            or (request._payload is not EMPTY_PAYLOAD and not request._payload.is_eof())
            or size >= _LARGE_BODY
            or self._closing
            or self._server.shutting_down
        ):
            return super().send_simple(request, status, reason, content_type, body, keep_alive)
        key = (status, reason, content_type)
        prefix = _SIMPLE_HEADS.get(key)
        if prefix is None:  # (only statuses that carry a body are cached)
            if status < 200 or status in _NO_BODY_STATUS:
                return super().send_simple(request, status, reason, content_type, body, keep_alive)
            prefix = response_head_prefix(
                HttpVersion11, status, reason, {_CONTENT_TYPE_NAME: content_type}
            )
            if len(_SIMPLE_HEADS) < _SIMPLE_HEADS_SIZE:
                _SIMPLE_HEADS[key] = prefix
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        self._keep_alive = True
        self._eof_sent = True
        data = b"%bContent-Length: %d\r\n%b\r\n%b" % (prefix, size, self._server.date_line, body)
        transport.write(data)
        return len(data) - size

    def write(self, data: bytes) -> Awaitable[None]:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        if data and not self._head_only:
            transport.write(chunk(data) if self._chunked else data)
        return self._drain_awaitable()

    def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        self._eof_sent = True
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._head_only:
            return
        if self._chunked:
            transport.write(chunk(data) + LAST_CHUNK)
        elif data:
            transport.write(data)

    def _drain_awaitable(self) -> Awaitable[None]:
        if not self._paused_writing:
            return READY
        waiter = self._drain_waiter
        if waiter is None:
            waiter = self._drain_waiter = self._loop.create_future()
        return waiter

    async def drain(self) -> None:
        if self.transport is None:
            raise ConnectionResetError("Connection lost")
        await self._drain_awaitable()

    def send_continue(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _body_can_be_skipped(self, request: BaseRequest) -> bool:
        """Whether what is left of the request body is small enough to read and drop after
        the response (else the response says ``Connection: close``)."""
        payload = request._payload
        if payload.is_eof():
            return True
        length = request._head.content_length
        return length is not None and length - payload.total_bytes <= DISCARD_LIMIT
