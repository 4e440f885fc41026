"""WebSocket over one HTTP/2 stream (RFC 8441 extended CONNECT).

The server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL; a client opens a stream with
``:method CONNECT`` and ``:protocol websocket``, which reaches the application as a GET, so the
very same ``web.WebSocketResponse`` handler serves it. The answer is 200 (no Upgrade, no
Sec-WebSocket-Accept); afterwards the stream's DATA frames carry the WebSocket frames.

:class:`H2WebSocketTransport` gives the WebSocket machinery the transport it uses on HTTP/1.1:
``write`` sends DATA within the stream's flow-control window (``pause_writing`` past a
high-water mark, ``resume_writing`` as the window opens), ``pause_reading`` stops acknowledging
received data (the peer's window closes: at most one window is buffered), ``close`` is
END_STREAM (TCP's FIN), ``abort`` is RST_STREAM CANCEL (TCP's RST).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from h2.errors import ErrorCodes

from surge.http.ws.deflate import server_accept
from surge.http.ws.errors import WSHandshakeError
from surge.http.ws.handshake import ServerHandshake, select_protocol

if TYPE_CHECKING:
    from surge.server.protocol.h2 import H2Stream

__all__ = ["H2WebSocketTransport", "server_handshake"]

_HIGH_WATER = 2**16  # buffered bytes past which the writer is paused


def server_handshake(
    connect_protocol: bytes | None,
    method: str,
    headers: Mapping[str, str],
    *,
    protocols: Iterable[str] = (),
    compress: bool = True,
) -> ServerHandshake:
    """Validate an extended CONNECT opening (RFC 8441 section 5); raise WSHandshakeError.

    Same checks and negotiation as on HTTP/1.1 (version 13, subprotocol, permessage-deflate),
    minus what HTTP/2 has no use for (Upgrade, Connection, the key and its accept value).
    """
    if connect_protocol is None:
        raise WSHandshakeError("No WebSocket UPGRADE hdr: HTTP/2 needs an extended CONNECT")
    if connect_protocol != b"websocket" or method != "GET":
        raise WSHandshakeError(f"Unsupported :protocol {connect_protocol!r}")
    version = headers.get("Sec-WebSocket-Version", "")
    if version.strip() != "13":
        raise WSHandshakeError(f"Unsupported version: {version}", 426)
    answer: list[tuple[str, str]] = []
    protocol = select_protocol(headers.get("Sec-WebSocket-Protocol", ""), protocols)
    if protocol is not None:
        answer.append(("Sec-WebSocket-Protocol", protocol))
    deflate = None
    offer = headers.get("Sec-WebSocket-Extensions")
    if compress and offer:
        accepted = server_accept(offer)
        if accepted is not None:
            value, deflate = accepted
            answer.append(("Sec-WebSocket-Extensions", value))
    return ServerHandshake(tuple(answer), protocol, deflate)


class H2WebSocketTransport(asyncio.Transport):
    """One HTTP/2 stream seen as the byte transport of a WebSocket."""

    def __init__(self, stream: H2Stream) -> None:
        super().__init__()
        self._stream = stream
        self._protocol: asyncio.Protocol | None = None
        self._closing = False
        self._lost = False
        self._reading = True
        self._held: deque[tuple[bytes, int]] = deque()  # received while reading is paused
        self._writing_paused = False
        self._high_water = _HIGH_WATER

    # the protocol ----------------------------------------------------------------------------

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol  # type: ignore[assignment]

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self._protocol is not None
        return self._protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self._stream._proto.transport
        if name == "socket" or transport is None:
            return default  # the socket carries every stream: not this one's to touch
        return transport.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._closing or self._lost

    # reading ---------------------------------------------------------------------------------

    def is_reading(self) -> bool:
        return self._reading and not self._closing

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if self._reading:
            return
        self._reading = True
        held = self._held
        while held and self._reading and self._protocol is not None and not self._lost:
            data, flow_length = held.popleft()
            self._deliver(data, flow_length)
        if not held and self._stream.payload.is_eof() and not self._lost:
            self.feed_eof()

    def feed_data(self, data: bytes, flow_length: int) -> None:
        """DATA from the peer: to the protocol now, or held (unacknowledged) while paused."""
        if self._lost:
            return
        if not self._reading or self._held or self._protocol is None:
            self._held.append((data, flow_length))
            return
        self._deliver(data, flow_length)

    def _deliver(self, data: bytes, flow_length: int) -> None:
        proto = self._stream._proto
        proto._core.acknowledge(self._stream.stream_id, flow_length)
        proto._flush()
        if data and self._protocol is not None:
            self._protocol.data_received(data)

    def feed_eof(self) -> None:
        """The peer sent END_STREAM (its FIN)."""
        if self._lost or self._held:
            return  # delivered once the held data has gone through (resume_reading)
        protocol = self._protocol
        if protocol is None or not protocol.eof_received():
            self.close()

    # writing ---------------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or self._lost:
            raise ConnectionResetError("Cannot write to closing transport")
        if not data:
            return
        stream = self._stream
        proto = stream._proto
        core = proto._core
        if not core.buffered(stream.stream_id):
            stream._progress = proto._loop.time()  # the stall clock starts with the backlog
        buffered = core.send_data(stream.stream_id, bytes(data))
        proto._flush(len(data))
        if (buffered > self._high_water or proto._paused_writing) and not self._writing_paused:
            self._writing_paused = True
            if self._protocol is not None:
                self._protocol.pause_writing()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(list_of_data))

    def on_writable(self) -> None:
        """Buffered data went out (the window opened or the socket drained)."""
        stream = self._stream
        proto = stream._proto
        if not self._writing_paused or proto._paused_writing:
            return
        if proto._core.buffered(stream.stream_id) <= self._high_water:
            self._writing_paused = False
            if self._protocol is not None:
                self._protocol.resume_writing()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.close()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """The stream's backlog above which the protocol is paused (``low`` is not used:
        writing resumes at or below ``high``)."""
        self._high_water = _HIGH_WATER if high is None else high

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._high_water, self._high_water)

    def get_write_buffer_size(self) -> int:
        return self._stream._proto._core.buffered(self._stream.stream_id)

    # ending ----------------------------------------------------------------------------------

    def close(self) -> None:
        """END_STREAM after what is buffered; the protocol then hears connection_lost."""
        if self._closing or self._lost:
            return
        self._closing = True
        stream = self._stream
        stream.write_eof()
        self._schedule_lost(None)

    def abort(self) -> None:
        """RST_STREAM CANCEL: what is buffered is dropped."""
        if self._lost:
            return
        self._closing = True
        stream = self._stream
        stream._proto._reset_stream(stream, ErrorCodes.CANCEL)  # reports back through lost()

    def lost(self, exc: Exception | None) -> None:
        """The stream is gone (reset, connection lost): tell the protocol, once."""
        self._closing = True
        self._held.clear()
        self._schedule_lost(exc)

    def _schedule_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        protocol = self._protocol
        if protocol is not None:
            # As asyncio's transports do: never from inside the caller's own call.
            self._stream._loop.call_soon(protocol.connection_lost, exc)
