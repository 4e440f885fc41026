"""The heartbeat of a WebSocket channel: a PING after ``heartbeat`` seconds without traffic,
and the connection dropped when no PONG (or anything else) comes back in half that time."""

from __future__ import annotations

from surge.http.ws.connection import ConnectionState
from surge.http.ws.models import WSCloseCode, WSMessage, WSMsgType
from surge.net.websocket_state import ChannelState

__all__ = ["Heartbeat"]


class Heartbeat(ChannelState):
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
