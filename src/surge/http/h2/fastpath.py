"""The common response written without h2's frame machinery: HEADERS (+ one DATA) as bytes.

h2 builds frame objects, runs each through its stream and connection state machines and
serialises them again: about a third of a small HTTP/2 response's server CPU. The common case
is narrow and well defined, so it is written here directly:

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

from h2.connection import ConnectionState, H2Connection
from h2.stream import StreamClosedBy, StreamState

__all__ = ["send_response"]

_FRAME_HEAD = Struct(">HBBBL")  # length (24 bits as 16 + 8), type, flags, stream id
_DATA, _HEADERS, _CONTINUATION = 0x0, 0x1, 0x9
_END_STREAM, _END_HEADERS = 0x1, 0x4
_OPEN = ConnectionState.SERVER_OPEN
_HALF_CLOSED_REMOTE = StreamState.HALF_CLOSED_REMOTE
_CLOSED = StreamState.CLOSED
_SENT_END = StreamClosedBy.SEND_END_STREAM


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
