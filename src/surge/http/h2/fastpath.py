"""The common exchange without h2's per-frame machinery: a lean frame layer for one case.

h2 parses each frame into an object (building its ``repr`` for a trace log), runs it through
the connection's and the stream's state machines and emits event objects; on the way out it
builds frame objects and serialises them again. For a small request/response that is most of
the server's CPU. The common case is narrow and well defined, so it is handled here directly.

In (``receive``): a HEADERS frame with END_HEADERS and END_STREAM, no padding or priority, that
opens a new client stream (a GET-like request) on an open connection whose frame buffer is
empty. Its block is decoded by the connection's own HPACK decoder (same limits, same errors),
the stream is created as h2's ``_begin_new_stream`` does it for this case (the id checks are
made before: odd, above the highest inbound id; windows from the current settings) and put in
half-closed (remote) as h2's state machine would; it yields the same h2 events h2 would
(RequestReceived with its StreamEnded). Every other frame, and everything while a frame or a
header block is incomplete, goes to h2 in order.

Out (``send_response``):

- a final (not 1xx) head on a server connection that is open;
- the stream is half-closed (remote) (the whole request is in) and its response head is not
  sent yet;
- the body is absent (a streamed response: HEADERS only), empty (HEADERS with END_STREAM) or
  fits both flow-control windows and one frame (HEADERS, then DATA with END_STREAM).

Everything else returns False and goes through h2. h2 stays the single owner of the state:
the header block comes from the connection's own HPACK encoder (so the dynamic table stays in
step), the bytes are appended to h2's own output buffer (so frame order is kept), and the
stream's state, ``headers_sent`` flag and both outbound windows are updated exactly as h2's
``send_headers``/``send_data`` would (RFC 9113 section 5.1: half-closed (remote) + END_STREAM
-> closed).
"""

from __future__ import annotations

from struct import Struct

import h2.events as ev
from h2.connection import (
    ConnectionState,
    H2Connection,
    _decode_headers,
)
from h2.settings import SettingCodes
from h2.stream import H2Stream, StreamClosedBy, StreamState
from h2.utilities import HeaderValidationFlags, normalize_inbound_headers

__all__ = ["receive", "send_response"]

_FRAME_HEAD = Struct(">HBBBL")  # length (24 bits as 16 + 8), type, flags, stream id
_DATA, _HEADERS, _CONTINUATION = 0x0, 0x1, 0x9
_END_STREAM, _END_HEADERS = 0x1, 0x4
_OPEN = ConnectionState.SERVER_OPEN
_HALF_CLOSED_REMOTE = StreamState.HALF_CLOSED_REMOTE
_CLOSED = StreamState.CLOSED
_SENT_END = StreamClosedBy.SEND_END_STREAM
_RECV_END = StreamClosedBy.RECV_END_STREAM
_INITIAL_WINDOW = SettingCodes.INITIAL_WINDOW_SIZE
_REQUEST = HeaderValidationFlags(False, False, False, False)
# HEADERS flags: END_STREAM and END_HEADERS set, PADDED and PRIORITY clear.
_FLAGS_MASK, _FLAGS_LEAN = 0x01 | 0x04 | 0x08 | 0x20, 0x01 | 0x04


def receive(conn: H2Connection, data: bytes) -> list[ev.Event]:
    """``conn.receive_data(data)``, with the common request frames handled here."""
    buffer = conn.incoming_buffer
    if buffer._data or buffer._preamble_len or buffer._headers_buffer:
        return conn.receive_data(data)
    events: list[ev.Event] = []
    size = len(data)
    pos = start = 0  # data[start:pos] is h2's, not yet given to it
    while pos + 9 <= size:
        length = int.from_bytes(data[pos : pos + 3], "big")
        end = pos + 9 + length
        if end > size:
            break
        if data[pos + 3] == _HEADERS and data[pos + 4] & _FLAGS_MASK == _FLAGS_LEAN:
            stream_id = int.from_bytes(data[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
            if start < pos:
                events += conn.receive_data(data[start:pos])
                start = pos
            if (
                stream_id & 1
                and stream_id > conn.highest_inbound_stream_id
                and length <= conn.max_inbound_frame_size
                and conn.state_machine.state is _OPEN
                and not buffer._headers_buffer
            ):
                events += _request(conn, stream_id, data[pos + 9 : end])
                start = end
        pos = end
    if start < size:
        events += conn.receive_data(data[start:] if start else data)
    return events


def _request(conn: H2Connection, stream_id: int, block: bytes) -> list[ev.Event]:
    """A complete request head on a new stream, as h2's ``_receive_headers_frame`` does it."""
    decoded = _decode_headers(conn.decoder, block)  # h2's errors: ProtocolError and kin
    headers = decoded if isinstance(decoded, list) else list(decoded)
    # RECV_HEADERS leaves an open server connection open: no state machine step needed.
    conn.open_inbound_streams  # noqa: B018 (LeanH2Connection prunes closed streams here)
    # h2's _begin_new_stream, its checks already made by the caller (odd id, above the highest
    # inbound one); the windows come from the settings in force now, as there.
    stream = H2Stream(
        stream_id,
        conn.config,
        conn.local_settings[_INITIAL_WINDOW],
        conn.remote_settings[_INITIAL_WINDOW],
    )
    stream.max_outbound_frame_size = conn.max_outbound_frame_size
    conn.streams[stream_id] = stream
    conn.highest_inbound_stream_id = stream_id
    machine = stream.state_machine
    # IDLE -RECV_HEADERS-> OPEN -RECV_END_STREAM-> HALF_CLOSED_REMOTE (request_received and
    # stream_ended in h2's table).
    machine.client = False
    machine.headers_received = True
    machine.state = _HALF_CLOSED_REMOTE
    machine.stream_closed_by = _RECV_END
    received = ev.RequestReceived(stream_id=stream_id)
    for name, _ in headers:
        if name == b"cookie":  # split cookie fields are joined, as h2 does
            headers = list(normalize_inbound_headers(headers, _REQUEST))
            break
    received.headers = headers
    ended = ev.StreamEnded(stream_id=stream_id)
    received.stream_ended = ended
    return [received, ended]


def _head(length: int, kind: int, flags: int, stream_id: int) -> bytes:
    return _FRAME_HEAD.pack(length >> 8, length & 0xFF, kind, flags, stream_id)


def send_response(
    conn: H2Connection,
    stream_id: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes | None,
) -> bool:
    """Queue a final response head (and its whole ``body`` unless None) on ``conn``; False,
    with nothing done, when the case is not the common one (see the module docstring)."""
    if conn.state_machine.state is not _OPEN or headers[0][1][:1] == b"1":
        return False  # headers[0] is :status; informational heads go through h2
    stream = conn.streams.get(stream_id)
    if stream is None:
        return False
    machine = stream.state_machine
    if machine.state is not _HALF_CLOSED_REMOTE or machine.headers_sent:
        return False
    max_frame = conn.max_outbound_frame_size
    size = len(body) if body else 0
    if size and (
        size > max_frame
        or size > conn.outbound_flow_control_window
        or size > stream.outbound_flow_control_window
    ):
        return False
    block = conn.encoder.encode(headers)
    end_on_headers = body is not None and not size
    flags = _END_STREAM if end_on_headers else 0
    out = conn._data_to_send
    if len(block) <= max_frame:
        out += _head(len(block), _HEADERS, flags | _END_HEADERS, stream_id)
        out += block
    else:  # a head larger than a frame: CONTINUATION frames carry the rest
        out += _head(max_frame, _HEADERS, flags, stream_id)
        out += block[:max_frame]
        for start in range(max_frame, len(block), max_frame):
            piece = block[start : start + max_frame]
            last = start + max_frame >= len(block)
            out += _head(len(piece), _CONTINUATION, _END_HEADERS if last else 0, stream_id)
            out += piece
    machine.headers_sent = True
    if body is None:
        return True
    if size:
        out += _head(size, _DATA, _END_STREAM, stream_id)
        out += body
        conn.outbound_flow_control_window -= size
        stream.outbound_flow_control_window -= size
    machine.state = _CLOSED
    machine.stream_closed_by = _SENT_END
    return True
