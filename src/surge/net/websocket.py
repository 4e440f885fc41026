"""A WebSocket over an asyncio transport: the message API the server and client share.

:class:`WebSocketChannel` is assembled from parts with one job each: ``websocket_state``
(settings, state, the write and queue primitives), ``websocket_receive``, ``websocket_send``,
``websocket_close`` (the close handshake) and ``websocket_heartbeat``.

Invariants:
- Incoming bytes go straight from the transport into the sans-IO :class:`WSConnection`; pings
  are answered and the peer's close is echoed from the protocol callback, so control traffic
  never waits for the application to call ``receive``.
- Received messages queue until ``receive``; past a high-water mark the transport stops
  reading (backpressure instead of unbounded memory).
- Frames sent while received messages are still queued are held and written together (one
  syscall for the answers to a burst), in the order sent, before any control frame, and at
  the latest on the next loop turn (``websocket_state.ChannelState._hold``).
- The close handshake always ends with the transport closed: when both close frames went, or
  when the peer does not answer within the close timeout, or on a protocol error.
"""

from __future__ import annotations

import asyncio
from typing import Any

from surge.http.ws.connection import WSConnection
from surge.net.websocket_heartbeat import Heartbeat
from surge.net.websocket_receive import Receiving
from surge.net.websocket_send import Sending

__all__ = ["WebSocketChannel", "WebSocketProtocol"]


class WebSocketProtocol(asyncio.Protocol):
    """The protocol installed on a transport after the handshake; feeds one channel.

    ``previous`` is the HTTP protocol that owned the transport before; it hears about the
    connection's end so its own bookkeeping (server connection sets, pools) stays right.
    """

    __slots__ = ("_channel", "_previous", "data_received")

    def __init__(self, channel: WebSocketChannel, previous: asyncio.BaseProtocol | None) -> None:
        self._channel = channel
        self._previous = previous
        # The transport calls the channel directly: no hop through this object per read.
        self.data_received = channel._feed  # type: ignore[method-assign]

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost reports it

    def connection_lost(self, exc: BaseException | None) -> None:
        self._channel._lost(exc)
        previous = self._previous
        if previous is not None:
            self._previous = None
            previous.connection_lost(exc)  # type: ignore[arg-type]

    def pause_writing(self) -> None:
        self._channel._paused_writing = True

    def resume_writing(self) -> None:
        self._channel._resume_writing()


class WebSocketChannel(Receiving, Sending, Heartbeat):
    """The message API (``receive``, ``send_str``, ``close``...) over one transport.

    Subclasses call ``_ws_configure`` with their settings, and :meth:`_ws_start` once the
    handshake is done.
    """

    def _ws_start(
        self, transport: asyncio.Transport, conn: WSConnection, tail: bytes, previous: Any
    ) -> None:
        """Take over ``transport``: install the protocol, then feed bytes already read."""
        self._loop = asyncio.get_running_loop()
        self._conn = conn
        self._transport = transport
        transport.set_protocol(WebSocketProtocol(self, previous))
        if self._writer_limit is not None:
            # Past this the transport calls pause_writing, and sends wait in _drain.
            transport.set_write_buffer_limits(high=self._writer_limit)
        if transport.is_reading() is False:
            transport.resume_reading()
        if self._heartbeat:
            self._last_rx = self._loop.time()
            self._heartbeat_timer = self._loop.call_later(self._heartbeat, self._on_heartbeat)
        if tail:
            self._feed(tail)
