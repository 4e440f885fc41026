"""Choosing HTTP/1.1 or HTTP/2 for a new connection, and the h2c upgrade.

- TLS: the ALPN protocol the handshake selected (``h2`` or ``http/1.1``) decides at once.
- Cleartext: the first bytes decide; the HTTP/2 preface means prior knowledge, anything else
  is HTTP/1.1 (which may still ask for ``Upgrade: h2c``).

The chosen protocol replaces this one on the transport (``set_protocol``), so an HTTP/1.1
connection pays for the choice once, never per request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from surge.http.h2.upgrade import SWITCHING_PROTOCOLS, h2c_settings, sniff
from surge.server.protocol.h1 import H1ServerProtocol
from surge.server.protocol.h2 import H2ServerProtocol

if TYPE_CHECKING:
    from surge.server.request import BaseRequest
    from surge.server.server import Server

__all__ = ["ALPN_PROTOCOLS", "DispatchProtocol", "alpn_context", "upgrade_h2c"]

ALPN_PROTOCOLS = ["h2", "http/1.1"]


def alpn_context(context: ssl.SSLContext) -> ssl.SSLContext:
    """Advertise ``h2`` and ``http/1.1`` by ALPN on a server's TLS context."""
    context.set_alpn_protocols(ALPN_PROTOCOLS)
    return context


class DispatchProtocol(asyncio.Protocol):
    """Waits for ALPN or the first bytes, then hands the connection to H1 or H2."""

    __slots__ = ("_buffer", "_server", "_timer", "transport")

    _task = None  # for Server.shutdown: nothing is ever in progress here

    def __init__(self, server: Server) -> None:
        self._server = server
        self._buffer = b""
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            alpn = ssl_object.selected_alpn_protocol()
            if alpn == "h2":
                self._hand_over(H2ServerProtocol(self._server), registered=False)
                return
            if alpn is not None:
                self._hand_over(H1ServerProtocol(self._server), registered=False)
                return
        self._server.connection_made(self)
        server = self._server
        self._timer = server.loop.call_later(server.header_timeout, self._close)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        kind = sniff(buffer)
        if kind is None:
            self._buffer = buffer
            return
        self._buffer = b""
        proto: asyncio.Protocol
        proto = H2ServerProtocol(self._server) if kind == "h2" else H1ServerProtocol(self._server)
        self._hand_over(proto, registered=True, data=buffer)

    def _hand_over(self, proto: asyncio.Protocol, *, registered: bool, data: bytes = b"") -> None:
        transport = self.transport
        assert transport is not None
        if registered:
            self._server.connection_lost(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        transport.set_protocol(proto)
        proto.connection_made(transport)
        if data:
            proto.data_received(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._server.connection_lost(self)
        self.transport = None

    def close_idle(self) -> bool:
        self._close()
        return True

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def upgrade_h2c(server: Server, request: BaseRequest) -> Awaitable[None] | None:
    """Switch an HTTP/1.1 connection to HTTP/2 when ``request`` asks for ``Upgrade: h2c``.

    Returns the awaitable that answers the request on stream 1, or None to answer it over
    HTTP/1.1 (no h2c asked, a request with a body, or invalid settings).
    """
    head = request._head
    if head.has_body or head.version != (1, 1):
        return None
    settings = h2c_settings(head.headers)
    h1 = request._protocol
    if settings is None or not isinstance(h1, H1ServerProtocol) or h1.transport is None:
        return None
    h2 = H2ServerProtocol(server)
    if not h2.prepare_upgrade(settings):
        return None
    transport, tail = h1.take_over()
    # The HTTP/1.1 protocol steps aside: no timers, no close when its request is done.
    h1.resume_reading()
    h1.transport = None
    h1._closing = True
    server.connection_lost(h1)
    transport.write(SWITCHING_PROTOCOLS)
    transport.set_protocol(h2)
    h2.connection_made(transport)
    stream = h2.adopt_upgrade(request)
    if tail:
        h2.data_received(tail)
    return h2._serve_stream(stream)
