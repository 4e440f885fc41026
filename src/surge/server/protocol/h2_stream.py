"""One HTTP/2 request stream on the server: the request's writer and its body's flow control.

Invariants:
- :class:`H2Stream` is the request's protocol and writer, with the interface of the HTTP/1.1
  protocol's (``send_head``, ``send_simple``, ``write``, ``write_eof``, ``drain``), so every
  response type works unchanged; the connection (:mod:`.h2`) owns the framing and the socket.
- A request body is acknowledged (WINDOW_UPDATE) as the handler consumes it: when its
  StreamReader pauses, acknowledgements stop, so a slow handler back-pressures its peer.
- ``write`` sends what the peer's window allows at once and buffers the rest; the returned
  awaitable waits while more than ``_HIGH_WATER`` is buffered (or the transport is paused).
- Hop-by-hop response headers are never sent (RFC 9113 section 8.2.2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from h2.errors import ErrorCodes
from multidict import CIMultiDict

from surge.net.streams import EMPTY_PAYLOAD, StreamReader
from surge.server.protocol.h2_websocket import H2WebSocketTransport, server_handshake
from surge.server.protocol.writer import READY, ResponseWriter

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from surge.http.ws.handshake import ServerHandshake
    from surge.server.protocol.h2 import H2ServerProtocol
    from surge.server.request import BaseRequest
    from surge.server.server import Server

__all__ = ["H2Stream"]

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
