"""HTTP/2 client connection: many concurrent requests as streams of one connection.

Each request gets an :class:`H2Stream`, which stands where an :class:`H1Connection` stands for
an HTTP/1.1 request (``start``/``write``/``drain``/``close`` and the pool's attributes), so the
request driver needs no HTTP/2 branch: ``start`` reads the request head the driver serialised
(surge's own, well-formed HTTP/1.1 bytes) and sends it as HEADERS.

Invariants:
- A connection holds at most the server's MAX_CONCURRENT_STREAMS streams (100 until its
  SETTINGS arrive); the connector opens another connection when one is full.
- Response bodies are acknowledged (WINDOW_UPDATE) as the reader consumes them: a paused
  StreamReader stops acknowledgements, so a slow reader back-pressures the server.
- Request bodies never exceed the server's windows: the excess waits for WINDOW_UPDATE and
  ``drain`` waits while much is waiting.
- A timeout, a reset or an early release ends one stream (RST_STREAM), never the connection;
  a GOAWAY or a connection loss fails the streams the server will not answer with
  ServerDisconnectedError (safe to retry when nothing was received).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any, cast

import h2.events as ev
from h2.config import H2Configuration
from h2.exceptions import H2Error
from h2.settings import SettingCodes, Settings

from surge.client.connection.h1 import H1Connection
from surge.client.connection.h2_stream import H2Stream
from surge.client.exceptions import ServerDisconnectedError
from surge.http.h2.hpack_memo import MemoDecoder, MemoEncoder
from surge.http.h2.lean import LeanH2Connection

__all__ = ["AlpnSwitch", "H2ClientConnection", "H2Stream"]

_DEFAULT_MAX_STREAMS = 100
_WINDOW = 2**24  # our receive window per connection; per stream it is INITIAL_WINDOW
_INITIAL_WINDOW = 2**20
_HIGH_WATER = 2**16
# Headers that mean nothing (or something wrong) in HTTP/2 (RFC 9113 section 8.2.2).
_SENSITIVE = frozenset({b"authorization", b"proxy-authorization"})
_DROP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"host"}
)


class H2ClientConnection(asyncio.Protocol):
    """One HTTP/2 connection to a server, shared by concurrent requests."""

    multiplexed = True

    def __init__(self, loop: asyncio.AbstractEventLoop, scheme: bytes) -> None:
        self._loop = loop
        self._scheme = scheme
        self._conn = LeanH2Connection(
            H2Configuration(
                client_side=True,
                header_encoding=None,
                # Request heads come validated and lowercased from the request serialiser,
                # connection-specific fields dropped and sensitive ones marked by
                # _request_headers; responses are validated by h2 as always.
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
            )
        )
        # Requests and their answers repeat their heads: code each once per table state.
        self._conn.encoder = MemoEncoder(self._conn.encoder)  # type: ignore[assignment]
        self._conn.decoder = MemoDecoder(self._conn.decoder)  # type: ignore[assignment]
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.goaway = False
        self.max_streams = _DEFAULT_MAX_STREAMS
        self.reserved = 0  # streams handed out and not finished
        self.completed = 0  # exchanges finished on this connection
        self._streams: dict[int, H2Stream] = {}
        self._write_paused = False
        self._flush_pending = False
        self.on_closed: Callable[[H2ClientConnection], None] | None = None
        self.on_stream_free: Callable[[], None] | None = None
        # Closed after this long without streams (the connector's keepalive_timeout).
        self.idle_timeout: float | None = None
        self._idle_since = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None

    # pool interface --------------------------------------------------------------------------

    @property
    def has_room(self) -> bool:
        return not self.closed and not self.goaway and self.reserved < self.max_streams

    def open_stream(self) -> H2Stream:
        """Reserve a stream for one request (sent by its ``start``)."""
        self.reserved += 1
        return H2Stream(self)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if not self.closed:
                with contextlib.suppress(H2Error):
                    self._conn.close_connection()
                self._write_out()
            self.transport.close()
        self._gone()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._gone()

    # asyncio callbacks -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = self._conn
        conn.local_settings = Settings(
            client=True,
            initial_values={
                SettingCodes.ENABLE_PUSH: 0,
                SettingCodes.INITIAL_WINDOW_SIZE: _INITIAL_WINDOW,
                SettingCodes.MAX_CONCURRENT_STREAMS: 100,
            },
        )
        conn.initiate_connection()
        conn.increment_flow_control_window(_WINDOW - 65535)
        self._write_out()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._gone()
        message = f"Server disconnected: {exc}" if exc is not None else None
        for stream in list(self._streams.values()):
            stream._fail(ServerDisconnectedError(message))
        self._streams.clear()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        for stream in list(self._streams.values()):
            stream._wake()

    def data_received(self, data: bytes) -> None:
        try:
            events = self._conn.receive_data(data)
        except H2Error as exc:
            self._write_out()
            self._fail_all(ServerDisconnectedError(f"HTTP/2 protocol error: {exc}"))
            self.abort()
            return
        streams = self._streams
        ended_size = ended_sid = 0
        for event in events:
            etype = type(event)
            if etype is ev.DataReceived:
                sid = event.stream_id  # type: ignore[attr-defined]
                size = event.flow_controlled_length or 0  # type: ignore[attr-defined]
                stream = streams.get(sid)
                if event.stream_ended is not None:  # type: ignore[attr-defined]
                    # Its last frame: only the connection window needs the bytes back.
                    ended_size += size
                    ended_sid = sid
                    size = 0
                if stream is not None:
                    stream._on_data(event.data, size)  # type: ignore[attr-defined]
                elif size:
                    self._ack(sid, size)
            elif etype is ev.ResponseReceived:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream._on_head(event.headers)  # type: ignore[attr-defined]
            elif etype is ev.StreamEnded:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream._on_end()
            elif etype is ev.TrailersReceived:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream._on_trailers(event.headers)  # type: ignore[attr-defined]
            elif etype is ev.InformationalResponseReceived:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream._on_continue()
            elif etype is ev.StreamReset:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    code = event.error_code  # type: ignore[attr-defined]
                    stream._fail(ServerDisconnectedError(f"Stream reset by server: {code!r}"))
            elif etype is ev.WindowUpdated:
                for stream in list(streams.values()):
                    stream._send_pending()
            elif etype is ev.RemoteSettingsChanged:
                limit = self._conn.remote_settings.max_concurrent_streams
                self.max_streams = max(1, min(limit, 2**16))
                for stream in list(streams.values()):
                    stream._send_pending()
            elif etype is ev.ConnectionTerminated:
                self._on_goaway(event.last_stream_id)  # type: ignore[attr-defined]
        if ended_size:
            self._ack(ended_sid, ended_size)  # one acknowledgement for all ended streams
        self._write_out()

    # internals -------------------------------------------------------------------------------

    def _on_goaway(self, last_stream_id: int | None) -> None:
        self.goaway = True
        last = last_stream_id or 0
        for sid, stream in list(self._streams.items()):
            if sid > last:
                stream._fail(ServerDisconnectedError("Server sent GOAWAY"))
        self._gone()
        if not self._streams and self.transport is not None:
            self.transport.close()

    def _fail_all(self, exc: BaseException) -> None:
        for stream in list(self._streams.values()):
            stream._fail(exc)

    def _gone(self) -> None:
        """No new streams here; tell the connector once."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if not self.closed:
            self.closed = True
        callback = self.on_closed
        if callback is not None:
            self.on_closed = None
            callback(self)

    def _ack(self, stream_id: int, size: int) -> None:
        if size and self.transport is not None:
            with contextlib.suppress(H2Error):
                self._conn.acknowledge_received_data(size, stream_id)
            self._flush()

    def _release(self, stream: H2Stream) -> None:
        self.reserved -= 1
        if stream.stream_id is not None:
            self._streams.pop(stream.stream_id, None)
        if self.on_stream_free is not None and not self.closed:
            self.on_stream_free()  # a request waiting for room may take this stream
        if self.goaway and not self._streams and self.transport is not None:
            self.transport.close()
        elif not self.reserved and self.idle_timeout is not None:
            self._idle_since = self._loop.time()
            if self._idle_timer is None:
                self._idle_timer = self._loop.call_later(self.idle_timeout, self._on_idle_timer)

    def _on_idle_timer(self) -> None:
        self._idle_timer = None
        timeout = self.idle_timeout
        if self.closed or self.reserved or timeout is None:
            return
        left = self._idle_since + timeout - self._loop.time()
        if left > 0:
            self._idle_timer = self._loop.call_later(left, self._on_idle_timer)
            return
        self.close()  # GOAWAY, then the transport

    def _flush(self) -> None:
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._write_out)

    def _write_out(self) -> None:
        self._flush_pending = False
        data = self._conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class AlpnSwitch(asyncio.Protocol):
    """Stands in until the TLS handshake is done, then hands the transport to the protocol
    ALPN chose: :class:`H2ClientConnection` for ``h2``, else :class:`H1Connection`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.chosen: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        proto: asyncio.Protocol
        if alpn == "h2":
            proto = H2ClientConnection(self._loop, b"https")
        else:
            proto = H1Connection(self._loop)
        transport.set_protocol(proto)
        proto.connection_made(transport)
        self.chosen = proto

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.chosen is not None:
            self.chosen.connection_lost(exc)
