"""Sending on a WebSocket channel: messages go on the transport at once (or, answering a
burst of received messages, together with the other answers); a send waits only while the
transport is paused (its buffer past the writer limit)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from surge.http.ws.connection import ConnectionState, WSConnection
from surge.http.ws.models import WSMsgType
from surge.net.websocket_state import ChannelState

__all__ = ["Sending"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
# Module constants: an enum member read off its class costs a __getattr__ hook (Python 3.11).
_OPEN = ConnectionState.OPEN
# From this size a message's header and payload go to the transport separately (no copy).
_WRITELINES_FROM = 16 * 1024


class Sending(ChannelState):
    def _check_sendable(self) -> WSConnection:
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        state = conn.state
        if (
            state is not ConnectionState.OPEN
            and state is not ConnectionState.CLOSE_RECEIVED
            and self._pending_fail is None
        ):
            raise ConnectionResetError("Cannot write to closing transport")
        return conn

    def _send_message(self, data: bytes, text: bool, compress: int | bool | None) -> None:
        """Put one message on the transport now (the caller awaits only when paused)."""
        conn = self._conn
        if conn is None or conn.state is not _OPEN:
            conn = self._check_sendable()
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        n = len(data)
        if n < _WRITELINES_FROM:
            heads = conn.short_heads
            if heads is not None and n < 126:
                frame = heads[text][n] + data  # what send_message builds, without the call
            else:
                want = None if compress is None else bool(compress)
                frame = conn.send_message(data, text=text, compress=want)
            held = self._held
            if self._queue:  # more received messages to answer: write with their answers
                self._hold(frame)
            elif held is not None:
                held.append(frame)
                self._flush_held()
            else:
                transport.write(frame)
        else:
            if self._held is not None:
                self._flush_held()
            want = None if compress is None else bool(compress)
            transport.writelines(conn.message_parts(data, text=text, compress=want))

    async def _send(self, data: bytes) -> None:
        self._check_sendable()
        self._write(data)
        if self._paused_writing:
            await self._drain()

    async def _drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is None or waiter.done():
            loop = self._loop
            assert loop is not None
            waiter = self._drain_waiter = loop.create_future()
        await waiter

    def _resume_writing(self) -> None:
        self._paused_writing = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _started(self) -> WSConnection:
        if self._conn is None:
            raise RuntimeError("Call .prepare() first")
        return self._conn

    async def send_str(self, data: str, compress: int | bool | None = None) -> None:
        """Send a TEXT message."""
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        self._send_message(data.encode(), True, compress)
        if self._paused_writing:
            await self._drain()

    async def send_bytes(
        self, data: bytes | bytearray | memoryview, compress: int | bool | None = None
    ) -> None:
        """Send a BINARY message."""
        if type(data) is not bytes:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
            data = bytes(data)  # the transport may keep it: a caller's buffer must not change
        self._send_message(data, False, compress)
        if self._paused_writing:
            await self._drain()

    async def send_json(
        self,
        data: Any,
        compress: int | bool | None = None,
        *,
        dumps: Callable[[Any], str] = json.dumps,
    ) -> None:
        """Send ``dumps(data)`` as a TEXT message."""
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self,
        data: Any,
        compress: int | bool | None = None,
        *,
        dumps: Callable[[Any], bytes],
    ) -> None:
        """Send ``dumps(data)`` (bytes) as a BINARY message."""
        await self.send_bytes(dumps(data), compress=compress)

    async def send_frame(
        self, message: bytes, opcode: WSMsgType | int, compress: int | bool | None = None
    ) -> None:
        """Send one frame with an explicit opcode."""
        conn = self._started()
        if opcode in (_TEXT, _BINARY):
            frame = conn.send_message(message, text=opcode == _TEXT, compress=_want(compress))
        else:
            frame = conn.send_frame(message, int(opcode))
        await self._send(frame)

    async def ping(self, message: bytes | str = b"") -> None:
        """Send a PING (at most 125 bytes of payload)."""
        if isinstance(message, str):
            message = message.encode()
        await self._send(self._started().send_ping(message))

    async def pong(self, message: bytes | str = b"") -> None:
        """Send an unsolicited PONG."""
        if isinstance(message, str):
            message = message.encode()
        await self._send(self._started().send_pong(message))


def _want(compress: int | bool | None) -> bool | None:
    """``compress`` as aiohttp spells it (None: as negotiated, 0: never) to a flag."""
    if compress is None:
        return None
    return bool(compress)
