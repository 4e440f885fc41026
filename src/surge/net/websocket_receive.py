"""Receiving on a WebSocket channel: bytes from the transport through the sans-IO connection
into a message queue (pings answered and the peer's close echoed right there), read by
``receive`` and ``async for``; past a high-water mark the transport stops reading."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Self

from surge.http.ws.connection import ConnectionState
from surge.http.ws.errors import WSProtocolError
from surge.http.ws.models import CLOSED_MESSAGE, CLOSING_MESSAGE, WSCloseCode, WSMessage, WSMsgType
from surge.net.websocket_close import Closing
from surge.net.websocket_state import HIGH_WATER, LOW_WATER

__all__ = ["Receiving"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_PING = WSMsgType.PING
_PONG = WSMsgType.PONG
_CLOSE = WSMsgType.CLOSE
_CLOSE_SENT = ConnectionState.CLOSE_SENT


class Receiving(Closing):
    def _feed(self, data: bytes) -> None:
        conn = self._conn
        assert conn is not None
        if self._pong_timer is not None:
            self._pong_timer.cancel()
            self._pong_timer = None
        if self._heartbeat_timer is not None:
            self._last_rx = self._loop.time()  # type: ignore[union-attr]
        try:
            messages = conn.receive_data(data)
        except WSProtocolError as exc:
            self._dispatch(exc.messages)
            if self._queue and conn.state is ConnectionState.FAILED:
                # Let the application see the messages before the fault first (an echo
                # server answers them); the connection fails when it reaches the error.
                self._pending_fail = exc
                self._push(WSMessage(WSMsgType.ERROR, exc, None))
                if not self._paused_reading and self._transport is not None:
                    self._paused_reading = True
                    self._transport.pause_reading()
            else:
                self._fail(exc.code, exc)
            return
        self._dispatch(messages)

    def _dispatch(self, messages: list[WSMessage]) -> None:
        conn = self._conn
        assert conn is not None
        queue = self._queue
        closing = conn.state is _CLOSE_SENT  # changes only with a close frame, which ends this
        for msg in messages:
            kind = msg[0]
            if kind is _TEXT or kind is _BINARY:
                if not closing:  # else: dropped while closing
                    queue.append(msg)
            elif kind is _PING:
                if self._autoping:
                    self._write(conn.send_pong(msg[1]))
                else:
                    queue.append(msg)
            elif kind is _PONG:
                if not self._autoping:
                    queue.append(msg)
            else:
                self._on_close_frame(msg)
                break
        if queue:
            # One wake-up for the whole batch; the reader drains the queue without waiting.
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
                if not waiter.done():
                    waiter.set_result(None)
            if len(queue) >= HIGH_WATER and not self._paused_reading and self._transport:
                self._paused_reading = True
                self._transport.pause_reading()

    def _lost(self, exc: BaseException | None) -> None:
        self._lost_called = True
        for timer in (self._heartbeat_timer, self._pong_timer, self._abort_timer):
            if timer is not None:
                timer.cancel()
        self._heartbeat_timer = self._pong_timer = self._abort_timer = None
        conn = self._conn
        if conn is not None and conn.state not in (ConnectionState.CLOSED, ConnectionState.FAILED):
            if conn.state is not ConnectionState.CLOSE_RECEIVED:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            if exc is not None and self._exception is None:
                self._exception = exc
        self._ws_closed = True
        self._transport = None
        self._held = None
        for fut in (self._waiter, self._close_waiter):
            if fut is not None and not fut.done():
                fut.set_result(None)
        self._waiter = None
        drain = self._drain_waiter
        if drain is not None and not drain.done():
            drain.set_exception(ConnectionResetError("Connection lost"))
            drain.exception()  # nobody may be waiting: don't warn about it

    async def receive(self, timeout: float | None = None) -> WSMessage:
        """The next message; CLOSE when the peer closes, CLOSED once it is over."""
        queue = self._queue
        while True:
            if queue:
                msg = queue.popleft()
                if self._pending_fail is not None or self._paused_reading:
                    self._taken(msg)
                return msg
            if self._transport is None or self._lost_called or self._ws_closed:
                return self._end_message()
            await self._wait(timeout)

    def _taken(self, msg: WSMessage) -> None:
        """Bookkeeping after a message left the queue: a deferred failure, backpressure."""
        pending = self._pending_fail
        if pending is not None and msg.data is pending:
            self._fail(pending.code, pending, report=False)
        if self._paused_reading and len(self._queue) <= LOW_WATER:
            self._paused_reading = False
            if self._transport is not None:
                self._transport.resume_reading()

    def _end_message(self) -> WSMessage:
        """What ``receive`` gives when no message will come: CLOSING or CLOSED."""
        if self._transport is None or self._lost_called:
            return CLOSED_MESSAGE
        conn = self._conn
        if conn is not None and conn.state in (ConnectionState.CLOSED, ConnectionState.FAILED):
            return CLOSED_MESSAGE
        return CLOSING_MESSAGE

    def _wait(self, timeout: float | None) -> Any:
        """An awaitable that ends when a message (or the end) arrives: the bare future
        unless a timeout applies, so the usual wait costs no coroutine of its own."""
        previous = self._waiter
        if previous is not None and not previous.done():  # done: a cancelled wait's leftover
            raise RuntimeError("Concurrent call to receive() is not allowed")
        loop = self._loop
        assert loop is not None
        waiter = self._waiter = loop.create_future()
        wait = timeout if timeout is not None else self._receive_timeout
        if wait is None:
            return waiter
        return self._wait_for(waiter, wait)

    async def _wait_for(self, waiter: asyncio.Future[None], wait: float) -> None:
        try:
            async with asyncio.timeout(wait):
                await waiter
        finally:
            if self._waiter is waiter:
                self._waiter = None

    async def receive_str(self, *, timeout: float | None = None) -> str | bytes:
        """The next message, which must be TEXT (bytes with ``decode_text=False``)."""
        msg = await self.receive(timeout)
        if msg.type is not _TEXT:
            raise TypeError(f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT")
        return msg.data  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        """The next message, which must be BINARY."""
        msg = await self.receive(timeout)
        if msg.type is not _BINARY:
            raise TypeError(f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY")
        return msg.data  # type: ignore[no-any-return]

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        """The next TEXT message parsed as JSON."""
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WSMessage:
        # receive() inlined: one coroutine per message instead of two.
        queue = self._queue
        while True:
            if queue:
                msg = queue.popleft()
                if self._pending_fail is not None or self._paused_reading:
                    self._taken(msg)
                if msg[0] is _CLOSE:
                    raise StopAsyncIteration
                return msg
            if self._transport is None or self._lost_called or self._ws_closed:
                raise StopAsyncIteration  # CLOSING or CLOSED
            if self._waiter is None and self._receive_timeout is None:
                # The usual wait, inlined: _wait minus its checks, which cannot apply here.
                waiter = self._waiter = self._loop.create_future()  # type: ignore[union-attr]
                await waiter
            else:
                await self._wait(None)
