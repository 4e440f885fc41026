"""A WebSocket over an asyncio transport: the message API the server and client share.

Invariants:
- Incoming bytes go straight from the transport into the sans-IO :class:`WSConnection`; pings
  are answered and the peer's close is echoed from the protocol callback, so control traffic
  never waits for the application to call ``receive``.
- Received messages queue until ``receive``; past a high-water mark the transport stops
  reading (backpressure instead of unbounded memory).
- The close handshake always ends with the transport closed: when both close frames went, or
  when the peer does not answer within the close timeout, or on a protocol error.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from surge.http.ws.connection import ConnectionState, WSConnection
from surge.http.ws.errors import WSProtocolError
from surge.http.ws.models import CLOSED_MESSAGE, CLOSING_MESSAGE, WSCloseCode, WSMessage, WSMsgType

__all__ = ["WebSocketChannel", "WebSocketProtocol"]

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_PING = WSMsgType.PING
_PONG = WSMsgType.PONG
_CLOSE = WSMsgType.CLOSE
_HIGH_WATER = 64  # queued messages before the transport pauses
_LOW_WATER = 16
# From this size a message's header and payload go to the transport separately (no copy).
_WRITELINES_FROM = 16 * 1024


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


class WebSocketChannel:
    """The message API (``receive``, ``send_str``, ``close``...) over one transport.

    Subclasses call :meth:`_ws_start` once the handshake is done.
    """

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
    def compress(self) -> bool:
        """Whether permessage-deflate is in use."""
        return self._conn is not None and self._conn.compress

    def exception(self) -> BaseException | None:
        """The error that ended the connection, if any."""
        return self._exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information (``peername``, ``sslcontext``...), as asyncio offers it."""
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    # receiving -------------------------------------------------------------------------------

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
        for msg in messages:
            kind = msg[0]
            if kind is _TEXT or kind is _BINARY:
                if conn.state is not ConnectionState.CLOSE_SENT:  # else: dropped while closing
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
            if len(queue) >= _HIGH_WATER and not self._paused_reading and self._transport:
                self._paused_reading = True
                self._transport.pause_reading()

    def _on_close_frame(self, msg: WSMessage) -> None:
        conn = self._conn
        assert conn is not None
        self._close_code = msg.data
        waiter = self._close_waiter
        if conn.state is ConnectionState.CLOSED:
            # The answer to our close: the handshake is complete.
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            if not self._ws_closed:
                self._ws_closed = True  # a shutdown-initiated close: tell the handler
                self._push(msg)
            self._finish_transport()
            return
        # The peer starts the close handshake.
        self._push(msg)
        if self._autoclose:
            self._ws_closed = True
            code = None if msg.data == 1005 else msg.data
            self._write(conn.send_close(code))
            self._finish_transport()

    def _finish_transport(self) -> None:
        """Both close frames went: the server drops TCP now; a client gives it a moment."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._conn is not None and self._conn.client:
            # RFC 6455 7.1.1: the server should close first; don't wait for it forever.
            loop = self._loop
            assert loop is not None
            self._abort_timer = loop.call_later(min(self._close_timeout, 1.0), transport.close)
        else:
            transport.close()

    def _fail(self, code: int, exc: BaseException, *, report: bool = True) -> None:
        """A protocol error: send the close frame it calls for and drop the connection."""
        self._pending_fail = None
        self._exception = exc
        conn = self._conn
        if conn is not None and conn.state in (ConnectionState.OPEN, ConnectionState.FAILED):
            try:
                self._write(conn.send_close(code, b""))
            except (ConnectionError, ValueError):
                pass
        if conn is not None:
            conn.mark_failed()
        self._close_code = code
        self._ws_closed = True
        if report:
            self._push(WSMessage(WSMsgType.ERROR, exc, None))
        if self._close_waiter is not None and not self._close_waiter.done():
            self._close_waiter.set_result(None)
        if self._transport is not None:
            self._transport.close()

    def _push(self, msg: WSMessage) -> None:
        queue = self._queue
        queue.append(msg)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if len(queue) >= _HIGH_WATER and not self._paused_reading and self._transport:
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
        if self._paused_reading and len(self._queue) <= _LOW_WATER:
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

    def __aiter__(self) -> WebSocketChannel:
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
            await self._wait(None)

    # sending ---------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        transport.write(data)

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
        if conn is None or conn.state is not ConnectionState.OPEN:
            conn = self._check_sendable()
        transport = self._transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        want = None if compress is None else bool(compress)
        if len(data) < _WRITELINES_FROM:
            transport.write(conn.send_message(data, text=text, compress=want))
        else:
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

    # closing ---------------------------------------------------------------------------------

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes | str = b"", drain: bool = True
    ) -> bool:
        """Run the close handshake; False when it had already started or ended."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("Call .prepare() first")
        if self._ws_closed:
            return False
        self._ws_closed = True
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
            self._heartbeat_timer = None
        transport = self._transport
        if transport is None or transport.is_closing():
            if self._close_code is None:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            return True
        if conn.state is ConnectionState.OPEN:
            self._close_code = code
            loop = self._loop
            assert loop is not None
            self._close_waiter = loop.create_future()
            try:
                self._write(conn.send_close(code, message))
            except ConnectionError as exc:
                self._exception = exc
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                return True
            try:
                async with asyncio.timeout(self._close_timeout):
                    await self._close_waiter
            except TimeoutError as exc:
                self._exception = exc
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                if self._transport is not None:
                    self._transport.abort()
            return True
        if conn.state is ConnectionState.CLOSE_RECEIVED:
            self._write(conn.send_close(code, message))
        self._finish_transport()
        return True

    def _shutdown(self) -> None:
        """Start a going-away close without waiting (server shutdown)."""
        conn = self._conn
        transport = self._transport
        if conn is None or transport is None or conn.state is not ConnectionState.OPEN:
            return
        self._close_code = WSCloseCode.GOING_AWAY
        try:
            self._write(conn.send_close(WSCloseCode.GOING_AWAY, b"Server shutdown"))
        except ConnectionError:
            return
        loop = self._loop
        assert loop is not None
        self._abort_timer = loop.call_later(self._close_timeout, transport.abort)

    # heartbeat -------------------------------------------------------------------------------

    def _on_heartbeat(self) -> None:
        self._heartbeat_timer = None
        loop = self._loop
        interval = self._heartbeat
        conn = self._conn
        if loop is None or interval is None or conn is None or self._transport is None:
            return
        now = loop.time()
        due = self._last_rx + interval
        if now < due:
            self._heartbeat_timer = loop.call_at(due, self._on_heartbeat)
            return
        if conn.state is not ConnectionState.OPEN:
            return
        try:
            self._write(conn.send_ping())
        except ConnectionError:
            return
        self._heartbeat_timer = loop.call_later(interval, self._on_heartbeat)
        if self._pong_timer is None:
            self._pong_timer = loop.call_later(interval / 2, self._on_pong_timeout)

    def _heartbeat_error(self) -> BaseException:
        return TimeoutError("No PONG received after heartbeat PING")

    def _on_pong_timeout(self) -> None:
        self._pong_timer = None
        if self._transport is None:
            return
        exc = self._heartbeat_error()
        self._exception = exc
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._ws_closed = True
        if self._conn is not None:
            self._conn.mark_failed()
        self._push(WSMessage(WSMsgType.ERROR, exc, None))
        self._transport.abort()


def _want(compress: int | bool | None) -> bool | None:
    """``compress`` as aiohttp spells it (None: as negotiated, 0: never) to a flag."""
    if compress is None:
        return None
    return bool(compress)
