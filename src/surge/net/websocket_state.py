"""The state a WebSocket channel keeps, its settings, and the two primitives every part of it
uses: writing bytes to the transport and queueing a message for ``receive``.

The receiving, sending, closing and heartbeat parts (sibling ``websocket_*`` modules) build on
this; :class:`surge.net.websocket.WebSocketChannel` puts them together.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from surge.http.ws.connection import WSConnection
from surge.http.ws.errors import WSProtocolError
from surge.http.ws.models import WSMessage

__all__ = ["HIGH_WATER", "LOW_WATER", "ChannelState"]

HIGH_WATER = 64  # queued messages before the transport pauses
LOW_WATER = 16
# Bytes of held-back frames (see ``ChannelState._hold``) written at once past this.
HOLD_LIMIT = 64 * 1024


class ChannelState:
    """Defaults live on the class, so a channel stores only what it changes."""

    _conn: WSConnection | None = None
    _transport: asyncio.Transport | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _ws_closed = False
    _close_code: int | None = None
    _exception: BaseException | None = None
    _waiter: asyncio.Future[None] | None = None
    _close_waiter: asyncio.Future[None] | None = None
    _drain_waiter: asyncio.Future[None] | None = None
    _paused_writing = False
    _paused_reading = False
    _heartbeat_timer: asyncio.TimerHandle | None = None
    _pong_timer: asyncio.TimerHandle | None = None
    _abort_timer: asyncio.TimerHandle | None = None
    _last_rx = 0.0
    _lost_called = False
    _pending_fail: WSProtocolError | None = None
    _compress_option: int | bool = False
    # Frames held back to go out in one write (``_hold``), and their size.
    _held: list[bytes] | None = None
    _held_size = 0

    def _ws_configure(
        self,
        *,
        timeout: float,
        receive_timeout: float | None,
        autoclose: bool,
        autoping: bool,
        heartbeat: float | None,
        max_msg_size: int,
        writer_limit: int | None = None,
    ) -> None:
        """``writer_limit``: bytes the transport may buffer before a send waits for it to
        drain (None: the transport's default)."""
        self._close_timeout = timeout
        self._writer_limit = writer_limit
        self._receive_timeout = receive_timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._max_msg_size = max_msg_size
        self._queue: deque[WSMessage] = deque()

    # state -----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the close handshake started (by either side) or the connection is gone."""
        return self._ws_closed

    @property
    def close_code(self) -> int | None:
        """The close code: the peer's when it sent one, else ours, 1006 when the link died."""
        return self._close_code

    @property
    def compress(self) -> int | bool:
        """permessage-deflate as negotiated, as aiohttp reports it: the window bits this side
        compresses with (9-15), 0 when it is not in use; before the handshake, the
        ``compress`` option given."""
        conn = self._conn
        return self._compress_option if conn is None else conn.compress

    def exception(self) -> BaseException | None:
        """The error that ended the connection, if any."""
        return self._exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information (``peername``, ``sslcontext``...), as asyncio offers it."""
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    # primitives ------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        if self._held is not None:
            self._flush_held()  # what was sent before goes first
        transport.write(data)

    def _hold(self, frame: bytes) -> None:
        """Keep ``frame`` to write with the next ones: called while received messages are
        still queued, which the handler takes without suspending, so an echo of a burst of N
        messages costs one write (one send syscall) instead of N. The last send of the burst
        (or one past HOLD_LIMIT) writes them all; a callback on the next loop turn does if
        the handler suspends first, so nothing waits on the handler reading again."""
        held = self._held
        if held is None:
            self._held = [frame]
            self._held_size = len(frame)
            loop = self._loop
            assert loop is not None
            loop.call_soon(self._flush_held)
            return
        held.append(frame)
        self._held_size += len(frame)
        if self._held_size >= HOLD_LIMIT:
            self._flush_held()

    def _flush_held(self) -> None:
        """Write the held-back frames (in one call) if the transport still takes them."""
        held = self._held
        if held is None:
            return
        self._held = None
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.writelines(held)

    def _push(self, msg: WSMessage) -> None:
        queue = self._queue
        queue.append(msg)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if len(queue) >= HIGH_WATER and not self._paused_reading and self._transport:
            self._paused_reading = True
            self._transport.pause_reading()
