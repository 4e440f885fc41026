"""HTTP/2 server connection core: bytes in, surge events out; responses in, bytes out.

Wraps ``h2.H2Connection`` (which owns framing, HPACK and the stream state machines) and adds
what a server needs on top of it.

Invariants:
- No I/O and no clock: the caller passes ``now`` and sends ``data_to_send()``.
- Response data beyond the peer's flow-control window is buffered per stream and sent as the
  window opens (``StreamWritable`` reports progress); nothing is sent past a window.
- Received data is never acknowledged here: the caller acknowledges it as the application
  consumes it, so a slow handler back-pressures its peer.
- Abuse closes the connection with GOAWAY: rapid resets and control-frame floods exceed a
  token bucket (ENHANCE_YOUR_CALM); protocol faults (bad preface, oversize header lists,
  CONTINUATION floods, streams beyond MAX_CONCURRENT_STREAMS) are h2's errors.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import cast

import h2.events as ev
from h2.config import H2Configuration
from h2.connection import ConnectionState
from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError, StreamClosedError
from h2.settings import SettingCodes, Settings
from h2.stream import StreamState
from h2.utilities import HeaderValidationFlags, SizeLimitDict, validate_headers
from hyperframe.frame import GoAwayFrame

from surge.http.h1.parser import RequestHead
from surge.http.h2.events import (
    ConnectionEnded,
    H2Event,
    RequestData,
    RequestEnded,
    RequestReceived,
    StreamReset,
    StreamWritable,
    TrailersReceived,
)
from surge.http.h2.fastpath import receive, send_response
from surge.http.h2.hpack_memo import MemoDecoder, MemoEncoder
from surge.http.h2.lean import LeanH2Connection
from surge.http.h2.settings import H2Limits, TokenBucket
from surge.http.h2.upgrade import PREFACE
from surge.http.version import HttpVersion20

__all__ = ["H2ServerConnection"]

_PREFACE_AND_FRAME_HEAD = len(PREFACE) + 9
_CONTROL_EVENTS = (ev.PingReceived, ev.RemoteSettingsChanged, ev.PriorityUpdated)
_STREAM_CLOSED = StreamState.CLOSED
_ordered_set = OrderedDict.__setitem__
_H2_DATA, _H2_REQUEST, _H2_ENDED = ev.DataReceived, ev.RequestReceived, ev.StreamEnded


class _Outbox:
    """Response bytes of one stream waiting for flow-control window."""

    __slots__ = ("chunks", "end", "size", "trailers")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.end = False
        self.trailers: list[tuple[bytes, bytes]] | None = None  # sent after the last chunk


class H2ServerConnection:
    """One HTTP/2 server connection's protocol state."""

    def __init__(self, limits: H2Limits | None = None) -> None:
        limits = limits or H2Limits()
        self.limits = limits
        conn = LeanH2Connection(
            H2Configuration(
                client_side=False,
                header_encoding=None,
                # Our response headers are built lowercase and hop-by-hop free already.
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
                # Inbound headers are validated by h2's own validator in _translate, once
                # per distinct header list (see _head_parts).
                validate_inbound_headers=False,
            )
        )
        conn.local_settings = Settings(client=False, initial_values=limits.local_settings())
        # Bounded from the first frame on, not only once the peer acknowledges our SETTINGS.
        conn.decoder.max_header_list_size = limits.max_header_list_size
        conn.max_inbound_frame_size = limits.max_frame_size
        # Repeated header blocks (the common case: the same request again, the same response
        # head) are coded once per dynamic-table state; see hpack_memo.
        conn.decoder = MemoDecoder(conn.decoder)  # type: ignore[assignment]
        conn.encoder = MemoEncoder(conn.encoder)  # type: ignore[assignment]
        self._conn = conn
        self._outboxes: dict[int, _Outbox] = {}
        self._open_bodies: set[int] = set()
        self._active: set[int] = set()  # accepted streams the application still holds
        self._resets = TokenBucket(limits.reset_burst, limits.reset_rate)
        self._control = TokenBucket(limits.control_burst, limits.control_rate)
        self.closed = False
        self._preface_check: bytes | None = b""
        self._goaway_last: int | None = None  # set once a graceful GOAWAY is out
        self._extra_out = b""
        self._heads: dict[tuple[tuple[bytes, bytes], ...], _HeadParts] = {}

    # set-up ----------------------------------------------------------------------------------

    def initiate(self) -> None:
        """Queue our preface (SETTINGS) and open the connection window for all streams."""
        self._conn.initiate_connection()
        self._open_connection_window()
        self._own_stream_limit()

    def _own_stream_limit(self) -> None:
        # h2 treats one stream beyond MAX_CONCURRENT_STREAMS as a connection error, which
        # would fail every open stream; we refuse just the extra ones (REFUSED_STREAM).
        values = self.limits.local_settings()
        values[SettingCodes.MAX_CONCURRENT_STREAMS] = 2**31 - 1
        self._conn.local_settings = Settings(client=False, initial_values=values)

    def initiate_upgrade(self, settings_header: bytes) -> bool:
        """Take over from an HTTP/1.1 ``Upgrade: h2c`` request; stream 1 carries its reply.

        False when the HTTP2-Settings value is invalid (nothing is sent then).
        """
        try:
            self._conn.initiate_upgrade_connection(settings_header)
        except (ProtocolError, ValueError, TypeError):
            return False
        self._open_connection_window()
        self._own_stream_limit()
        self._active.add(1)
        return True

    def _open_connection_window(self) -> None:
        window = self.limits.initial_window_size * 4
        if window > 65535:
            self._conn.increment_flow_control_window(window - 65535)

    # input -----------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[H2Event]:
        """Feed bytes from the peer; returns what happened, in order."""
        if self.closed:
            return []
        check = self._preface_check
        if check is not None and not self._first_frame_is_settings(check, data):
            self.close(ErrorCodes.PROTOCOL_ERROR)
            return [ConnectionEnded(ErrorCodes.PROTOCOL_ERROR, by_peer=False)]
        try:
            if self._preface_check is None:
                h2_events = receive(self._conn, data)
            else:
                h2_events = self._conn.receive_data(data)
        except ProtocolError as exc:
            self.closed = True
            if self._conn.state_machine.state != ConnectionState.CLOSED:
                # A bad preface fails before h2 queues its GOAWAY.
                self._conn.close_connection(exc.error_code)
            return [ConnectionEnded(int(exc.error_code), by_peer=False)]
        return self._translate(h2_events, now)

    def _first_frame_is_settings(self, check: bytes, data: bytes) -> bool:
        """The preface must be followed by a SETTINGS frame (RFC 9113 section 3.4);
        h2 checks only the 24 magic bytes."""
        check += data[: _PREFACE_AND_FRAME_HEAD - len(check)]
        if len(check) < _PREFACE_AND_FRAME_HEAD:
            self._preface_check = check
            return True
        self._preface_check = None
        # Byte 3 of a frame header is its type; SETTINGS is 4. A bad magic is h2's to report.
        return check[:24] != PREFACE or check[24 + 3] == 0x4

    def _translate(self, h2_events: Iterable[ev.Event], now: float) -> list[H2Event]:
        out: list[H2Event] = []
        writable = False
        for event in h2_events:
            # h2's event classes have no subclasses: the common ones are told by type.
            kind = type(event)
            if kind is _H2_DATA:
                event = cast(ev.DataReceived, event)
                assert event.stream_id is not None and event.data is not None
                out.append(
                    RequestData(event.stream_id, event.data, event.flow_controlled_length or 0)
                )
            elif kind is _H2_REQUEST:
                event = cast(ev.RequestReceived, event)
                assert event.stream_id is not None and event.headers is not None
                sid = event.stream_id
                end = event.stream_ended is not None
                parts = self._head_parts(event.headers)
                if parts is None:
                    self.reset(sid, ErrorCodes.PROTOCOL_ERROR)  # malformed: a stream error
                    continue
                head = _build_head(parts, end)
                connect_protocol = None
                if head is not None and head.method == "CONNECT":
                    head, connect_protocol = _extended_connect(head, event.headers)
                    if connect_protocol is not None and not self.limits.websocket:
                        head = None  # not advertised: a malformed request
                if self._goaway_last is not None and sid > self._goaway_last:
                    self.reset(sid, ErrorCodes.REFUSED_STREAM)  # after our GOAWAY
                    continue
                if head is None:
                    self.reset(sid, ErrorCodes.PROTOCOL_ERROR)
                    continue
                if len(self._active) >= self.limits.max_concurrent_streams:
                    self.reset(sid, ErrorCodes.REFUSED_STREAM)
                    if not self._resets.take(now):
                        return self._calm_down(out)
                    continue
                self._active.add(sid)
                if not end:
                    self._open_bodies.add(sid)
                out.append(RequestReceived(sid, head, end, connect_protocol))
            elif kind is _H2_ENDED:
                sid = cast(ev.StreamEnded, event).stream_id or 0
                if sid in self._open_bodies:
                    self._open_bodies.discard(sid)
                    out.append(RequestEnded(sid))
            elif isinstance(event, ev.TrailersReceived):
                assert event.stream_id is not None
                trailers = list(event.headers or ())
                if not _valid(trailers, _TRAILER_FLAGS):
                    self.reset(event.stream_id, ErrorCodes.PROTOCOL_ERROR)
                    out.append(StreamReset(event.stream_id, ErrorCodes.PROTOCOL_ERROR))
                    continue
                out.append(TrailersReceived(event.stream_id, trailers))
            elif isinstance(event, ev.StreamReset):
                sid = event.stream_id or 0
                self._open_bodies.discard(sid)
                self._outboxes.pop(sid, None)
                self._active.discard(sid)
                out.append(StreamReset(sid, int(event.error_code or 0)))
                if event.remote_reset and not self._resets.take(now):
                    return self._calm_down(out)
            elif isinstance(event, ev.WindowUpdated | ev.RemoteSettingsChanged):
                writable = True
                if isinstance(event, ev.RemoteSettingsChanged) and not self._control.take(now):
                    return self._calm_down(out)
            elif isinstance(event, _CONTROL_EVENTS):
                if not self._control.take(now):
                    return self._calm_down(out)
            elif isinstance(event, ev.ConnectionTerminated):
                self.closed = True
                out.append(ConnectionEnded(int(event.error_code or 0), by_peer=True))
                return out
        if writable and self._outboxes:
            for sid in list(self._outboxes):
                if self._flush(sid):
                    out.append(StreamWritable(sid))
        return out

    def _head_parts(self, headers: list[tuple[bytes, bytes]]) -> _HeadParts | None:
        """A request header list validated by h2's validator (RFC 9113 section 8.2 and 8.3)
        and taken apart for a RequestHead; None when h2 finds it malformed. A list seen once
        on this connection is neither checked nor parsed again (a peer repeating a request
        sends the same list, which the memoised HPACK decoder hands back)."""
        key = tuple(headers)
        seen = self._heads
        parts = seen.get(key)
        if parts is not None:
            return parts
        if not _valid(key, _REQUEST_FLAGS):
            return None
        parts = _head_parts(key)
        if len(key) <= _MAX_VALID_FIELDS:  # bounded: a few short lists per connection
            if len(seen) >= _MAX_VALID_HEADS:
                seen.clear()
            seen[key] = parts
        return parts

    def _calm_down(self, out: list[H2Event]) -> list[H2Event]:
        self.close(ErrorCodes.ENHANCE_YOUR_CALM)
        out.append(ConnectionEnded(ErrorCodes.ENHANCE_YOUR_CALM, by_peer=False))
        return out

    def acknowledge(self, stream_id: int, size: int) -> None:
        """The application consumed ``size`` flow-controlled bytes of ``stream_id``."""
        if size and not self.closed:
            try:
                self._conn.acknowledge_received_data(size, stream_id)
            except (StreamClosedError, ProtocolError):
                pass

    # output ----------------------------------------------------------------------------------

    def send_headers(
        self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool = False
    ) -> None:
        self._conn.send_headers(stream_id, headers, end_stream=end_stream)

    def send_response(
        self, stream_id: int, headers: list[tuple[bytes, bytes]], body: bytes | None
    ) -> int:
        """A final response head, then the whole ``body`` (None: the body is streamed with
        ``send_data`` later). Returns the bytes still buffered for the stream."""
        if send_response(self._conn, stream_id, headers, body):
            return 0
        if body is None or not body:
            self._conn.send_headers(stream_id, headers, end_stream=body is not None)
            return 0
        self._conn.send_headers(stream_id, headers)
        return self.send_data(stream_id, body, end_stream=True)

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> int:
        """Send ``data`` as far as the window allows and buffer the rest; returns the number
        of bytes still buffered for the stream."""
        box = self._outboxes.get(stream_id)
        if box is None:
            conn = self._conn
            size = len(data)
            if not size:
                if end_stream:
                    conn.end_stream(stream_id)
                return 0
            if size <= conn.max_outbound_frame_size and size <= conn.local_flow_control_window(
                stream_id
            ):
                # Fits the window in one frame (the usual small response): no outbox.
                conn.send_data(stream_id, data, end_stream=end_stream)
                return 0
            box = self._outboxes[stream_id] = _Outbox()
        if data:
            box.chunks.append(data)
            box.size += len(data)
        box.end = end_stream
        self._flush(stream_id)
        box = self._outboxes.get(stream_id)
        return 0 if box is None else box.size

    def send_trailers(
        self, stream_id: int, data: bytes, trailers: list[tuple[bytes, bytes]]
    ) -> int:
        """End the stream with ``data`` then a trailing HEADERS frame; both wait for window
        behind what is already buffered. Returns the bytes still buffered."""
        box = self._outboxes.get(stream_id)
        if box is None:
            box = self._outboxes[stream_id] = _Outbox()
        if data:
            box.chunks.append(data)
            box.size += len(data)
        box.end = True
        box.trailers = trailers
        self._flush(stream_id)
        box = self._outboxes.get(stream_id)
        return 0 if box is None else box.size

    def buffered(self, stream_id: int) -> int:
        box = self._outboxes.get(stream_id)
        return 0 if box is None else box.size

    def _flush(self, stream_id: int) -> bool:
        """Send what the window allows; True when something went out."""
        box = self._outboxes[stream_id]
        conn = self._conn
        sent = False
        chunks = box.chunks
        while chunks:
            window = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size)
            if window <= 0:
                return sent
            data = chunks[0]
            if len(data) > window:
                chunks[0] = data[window:]
                data = data[:window]
            else:
                chunks.popleft()
            box.size -= len(data)
            last = box.end and not chunks and box.trailers is None
            conn.send_data(stream_id, data, end_stream=last)
            sent = True
        if box.trailers is not None:
            conn.send_headers(stream_id, box.trailers, end_stream=True)
            sent = True
        elif box.end and not sent:
            conn.end_stream(stream_id)
        del self._outboxes[stream_id]
        return True

    def reset(self, stream_id: int, error_code: int = ErrorCodes.CANCEL) -> None:
        """Abandon a stream (RST_STREAM) and whatever it still had to send."""
        self._outboxes.pop(stream_id, None)
        self._open_bodies.discard(stream_id)
        self._active.discard(stream_id)
        if self.closed:
            return
        try:
            self._conn.reset_stream(stream_id, error_code)
        except (StreamClosedError, ProtocolError):
            pass

    def goaway(self) -> None:
        """Graceful shutdown: GOAWAY NO_ERROR naming the last stream we will answer.

        Written by hand: h2's ``close_connection`` would refuse every later frame, and the
        streams still open must be able to finish (their WINDOW_UPDATEs, request bodies).
        """
        if self.closed or self._goaway_last is not None:
            return
        last = self._conn.highest_inbound_stream_id
        self._goaway_last = last
        frame = GoAwayFrame(0)
        frame.last_stream_id = last
        frame.error_code = ErrorCodes.NO_ERROR
        self._extra_out = self._conn.data_to_send() + frame.serialize()

    def close(self, error_code: int = ErrorCodes.NO_ERROR) -> None:
        if not self.closed:
            self.closed = True
            self._conn.close_connection(error_code)

    def release(self, stream_id: int) -> None:
        """The application is done with a stream: it no longer counts as concurrent.

        A stream h2 holds as closed leaves h2's table now, as h2's own periodic prune would
        do it (how it closed is remembered), rather than in a walk over the whole table.
        """
        self._active.discard(stream_id)
        conn = self._conn
        stream = conn.streams.get(stream_id)
        if stream is not None and stream.state_machine.state is _STREAM_CLOSED:
            del conn.streams[stream_id]
            closed = conn._closed_streams
            if type(closed) is SizeLimitDict:
                # Its own __setitem__ and bound check, minus two Python calls.
                _ordered_set(closed, stream_id, stream.state_machine.stream_closed_by)
                limit = closed._size_limit
                if limit is not None and len(closed) > limit:
                    closed.popitem(last=False)
            else:
                closed[stream_id] = stream.state_machine.stream_closed_by

    def stream_open(self, stream_id: int) -> bool:
        stream = self._conn.streams.get(stream_id)
        return stream is not None and not stream.closed

    def data_to_send(self) -> bytes:
        if self._extra_out:
            data, self._extra_out = self._extra_out, b""
            return data + self._conn.data_to_send()
        return self._conn.data_to_send()


_CONNECTION_HEADERS = frozenset({b"connection", b"keep-alive", b"proxy-connection"})
_REQUEST_FLAGS = HeaderValidationFlags(False, False, False, False)
_TRAILER_FLAGS = HeaderValidationFlags(False, True, False, False)
_MAX_VALID_HEADS = 16
_MAX_VALID_FIELDS = 64


def _valid(headers: Iterable[tuple[bytes, bytes]], flags: HeaderValidationFlags) -> bool:
    try:
        for _ in validate_headers(headers, flags):
            pass
    except ProtocolError:
        return False
    return True


def _extended_connect(
    head: RequestHead, headers: Iterable[tuple[bytes, bytes]]
) -> tuple[RequestHead | None, bytes | None]:
    """An extended CONNECT's ``:protocol`` (RFC 8441); ``websocket`` reaches the application
    as a GET, so the handler that serves WebSocket on HTTP/1.1 serves it here too. Only
    ``websocket`` is advertised: another protocol is refused (None)."""
    for name, value in headers:
        if name == b":protocol":
            if value != b"websocket":
                return None, None
            head.method = "GET"
            return head, value
    return head, None


# What a request's header list says, apart from whether the stream ends with it: method,
# target, header fields (``:authority`` as Host when there is none), Content-Length, Expect.
# ``_BAD`` for a list h2 accepts but a request cannot be made of.
_HeadParts = tuple[str, str, tuple[tuple[bytes, bytes], ...], int | None, bool]
_BAD: _HeadParts = ("", "", (), None, False)


def _head_parts(headers: Iterable[tuple[bytes, bytes]]) -> _HeadParts:
    method = path = authority = None
    fields: list[tuple[bytes, bytes]] = []
    has_host = False
    content_length: int | None = None
    expect = False
    for name, value in headers:
        if name[:1] == b":":
            if name == b":method":
                method = value
            elif name == b":path":
                path = value
            elif name == b":authority":
                authority = value
            continue
        if name in _CONNECTION_HEADERS:
            return _BAD
        fields.append((name, value))
        if name == b"host":
            has_host = True
        elif name == b"content-length":
            if not value.isdigit() or content_length is not None:
                return _BAD
            content_length = int(value)
        elif name == b"expect":
            expect = True
    if method is None:
        return _BAD
    if authority is not None and not has_host:
        fields.insert(0, (b"host", authority))
    if path is None:
        if method != b"CONNECT" or authority is None:
            return _BAD
        path = authority
    return (method.decode("ascii"), path.decode("latin-1"), tuple(fields), content_length, expect)


def _build_head(parts: _HeadParts, end_stream: bool) -> RequestHead | None:
    if parts is _BAD:
        return None
    method, target, fields, content_length, expect = parts
    head = RequestHead(
        method,
        target,
        HttpVersion20,
        list(fields),
        True,
        False,
        not end_stream and content_length is None,
        content_length if content_length is not None or not end_stream else 0,
    )
    head.expect = expect
    return head


def request_head(headers: Iterable[tuple[bytes, bytes]], end_stream: bool) -> RequestHead | None:
    """A :class:`RequestHead` (version 2.0) from a decoded header list; None when invalid.

    ``:authority`` becomes the Host header when the request has none.
    """
    return _build_head(_head_parts(headers), end_stream)
