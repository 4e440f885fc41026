"""The close handshake of a WebSocket channel: answering the peer's close, ``close()``, a
protocol failure, a server's going-away close; the transport always ends closed."""

from __future__ import annotations

import asyncio

from surge.http.ws.connection import ConnectionState
from surge.http.ws.models import WSCloseCode, WSMessage, WSMsgType
from surge.net.websocket_state import ChannelState

__all__ = ["Closing"]


class Closing(ChannelState):
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
        self._flush_held()
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
            self._flush_held()
            self._transport.close()

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
