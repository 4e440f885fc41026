"""``web.WebSocketResponse``: the server side of a WebSocket.

``prepare`` checks the opening handshake, sends the 101 through the HTTP/1.1 writer, then takes
the transport over from the HTTP protocol (with the bytes it read past the request head). The
server keeps a set of live WebSockets so that shutdown closes each with 1001 (going away).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from surge.http.ws.connection import WSConnection
from surge.http.ws.errors import WSHandshakeError
from surge.http.ws.handshake import ServerHandshake, check_server_request
from surge.net.websocket import WebSocketChannel
from surge.server.exceptions import (
    HTTPBadRequest,
    HTTPException,
    HTTPMethodNotAllowed,
    HTTPUpgradeRequired,
)
from surge.server.response import StreamResponse

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["WebSocketReady", "WebSocketResponse"]

_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebSocketReady:
    """Result of :meth:`WebSocketResponse.can_prepare`: whether, and with which protocol."""

    ok: bool
    protocol: str | None

    def __bool__(self) -> bool:
        return self.ok


class WebSocketResponse(WebSocketChannel, StreamResponse):
    """A WebSocket endpoint; a handler prepares it, then exchanges messages.

    Example::

        async def handler(request):
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await ws.send_str(f"Echo: {msg.data}")
            return ws
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        protocols: Any = (),
        compress: bool = True,
        max_msg_size: int = 4 * _MiB,
        writer_limit: int = 256 * 1024,
        decode_text: bool = True,
    ) -> None:
        super().__init__(status=101)
        self._ws_configure(
            timeout=timeout,
            receive_timeout=receive_timeout,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
            max_msg_size=max_msg_size,
            writer_limit=writer_limit,
        )
        self._decode_text = decode_text
        self._protocols = tuple(protocols)
        self._compress_option = compress
        self._ws_protocol: str | None = None
        self._server: Any = None

    @property
    def ws_protocol(self) -> str | None:
        """The negotiated subprotocol, if any."""
        return self._ws_protocol

    def _handshake(self, request: BaseRequest) -> ServerHandshake:
        # An HTTP/2 stream brings its own check (RFC 8441: extended CONNECT, no key).
        check = getattr(request._protocol, "check_websocket", check_server_request)
        try:
            return check(
                request.method,
                request.headers,
                protocols=self._protocols,
                compress=bool(self._compress_option),
            )
        except WSHandshakeError as exc:
            raise _http_error(exc, request) from None

    def can_prepare(self, request: BaseRequest) -> WebSocketReady:
        """Whether ``request`` is an acceptable opening handshake (nothing is sent)."""
        if self._conn is not None:
            raise RuntimeError("Already started")
        try:
            hs = self._handshake(request)
        except HTTPException:
            return WebSocketReady(False, None)
        return WebSocketReady(True, hs.protocol)

    async def prepare(self, request: BaseRequest) -> Any:
        """Answer the handshake with 101 and switch the connection to WebSocket."""
        if self._writer is not None:
            return self._writer
        hs = self._handshake(request)
        protocol = request._protocol
        if not hasattr(protocol, "take_over"):
            raise RuntimeError("This connection cannot be upgraded to WebSocket")
        headers = self.headers
        for name, value in hs.headers:
            headers[name] = value
        self._ws_protocol = hs.protocol
        writer = await super().prepare(request)
        transport, tail = protocol.take_over()
        conn = WSConnection(
            client=False,
            max_size=self._max_msg_size,
            deflate=hs.deflate,
            decode_text=self._decode_text,
        )
        self._ws_start(transport, conn, tail, protocol)
        server = getattr(protocol, "_server", None)
        websockets = getattr(server, "websockets", None)
        if websockets is not None:
            websockets.add(self)
            self._server = websockets
        return writer

    def _lost(self, exc: BaseException | None) -> None:
        super()._lost(exc)
        if self._server is not None:
            self._server.discard(self)
            self._server = None

    def write(self, data: bytes | bytearray | memoryview) -> Any:
        raise RuntimeError("Cannot call .write() for websocket")

    async def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        if self._conn is None:
            raise RuntimeError("Response has not been started")
        await self.close()
        self._eof_sent = True

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _http_error(exc: WSHandshakeError, request: BaseRequest) -> HTTPException:
    if exc.status == 426:
        return HTTPUpgradeRequired(text=exc.message, headers={"Sec-WebSocket-Version": "13"})
    if exc.status == 405:
        return HTTPMethodNotAllowed(request.method, ["GET"])
    return HTTPBadRequest(text=exc.message)
