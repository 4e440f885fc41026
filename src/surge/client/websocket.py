"""``session.ws_connect``: the client side of a WebSocket.

The opening handshake (connection, proxy, redirects) is :mod:`surge.client.ws_handshake`'s;
this module checks the 101 response and runs the WebSocket on the connection, whose pool slot
is held until the WebSocket ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from surge.client.deprecated import merge_ssl
from surge.client.exceptions import ServerTimeoutError, WSServerHandshakeError
from surge.client.proxy import netrc_auth
from surge.client.request import ClientRequest, apply_params, build_url
from surge.client.ws_handshake import http_url, open_handshake
from surge.http.ws.connection import WSConnection
from surge.http.ws.deflate import client_offer
from surge.http.ws.errors import WSHandshakeError
from surge.http.ws.handshake import check_client_response, make_key
from surge.net.websocket import WebSocketChannel

if TYPE_CHECKING:
    from surge.client.auth import BasicAuth
    from surge.client.pool import Connection
    from surge.client.session import ClientSession

__all__ = ["ClientWSTimeout", "ClientWebSocketResponse", "ws_connect"]

_SENTINEL: Any = object()


@dataclasses.dataclass(frozen=True, slots=True)
class ClientWSTimeout:
    """WebSocket time limits: ``ws_receive`` per ``receive``, ``ws_close`` for the close
    handshake."""

    ws_receive: float | None = None
    ws_close: float | None = None


DEFAULT_WS_CLIENT_TIMEOUT = ClientWSTimeout(ws_receive=None, ws_close=10.0)


class ClientWebSocketResponse(WebSocketChannel):
    """A connected client WebSocket (what ``session.ws_connect`` gives)."""

    def __init__(
        self,
        *,
        timeout: ClientWSTimeout,
        autoclose: bool,
        autoping: bool,
        heartbeat: float | None,
        max_msg_size: int,
        protocol: str | None,
        headers: CIMultiDictProxy[str],
        connection: Connection,
    ) -> None:
        self._ws_configure(
            timeout=timeout.ws_close if timeout.ws_close is not None else 10.0,
            receive_timeout=timeout.ws_receive,
            autoclose=autoclose,
            autoping=autoping,
            heartbeat=heartbeat,
            max_msg_size=max_msg_size,
        )
        self._protocol = protocol
        self._response_headers = headers
        self._connection: Connection | None = connection

    # Set by the handshake when permessage-deflate was agreed (the class default otherwise).
    client_notakeover: bool = False
    """Whether this client resets its compression context after every message."""

    @property
    def protocol(self) -> str | None:
        """The subprotocol the server chose, if any."""
        return self._protocol

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The headers of the server's 101 response."""
        return self._response_headers

    def _heartbeat_error(self) -> BaseException:
        return ServerTimeoutError("No PONG received after heartbeat PING")

    def _lost(self, exc: BaseException | None) -> None:
        super()._lost(exc)
        connection = self._connection
        if connection is not None:
            self._connection = None
            connection.close()  # frees the pool slot

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _WSRequestContextManager:
    """``await session.ws_connect(...)`` or ``async with session.ws_connect(...) as ws``."""

    __slots__ = ("_coro", "_ws")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._ws: ClientWebSocketResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientWebSocketResponse]:
        return self._coro.__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._ws = await self._coro
        return self._ws

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()


def _offered_window_bits(compress: int | bool) -> int:
    """``compress`` as aiohttp takes it: 0 (or False) offers no permessage-deflate, 9-15 the
    window the server may compress with (True: 15)."""
    if compress is True:
        return 15
    if not compress:
        return 0
    if not 9 <= compress <= 15:
        raise ValueError(f"compress must be 0 or window bits from 9 to 15, not {compress!r}")
    return int(compress)


def ws_connect(session: ClientSession, url: str | URL, **kwargs: Any) -> _WSRequestContextManager:
    """Open a WebSocket with ``session``; see :meth:`ClientSession.ws_connect`."""
    return _WSRequestContextManager(_connect(session, url, **kwargs))


async def _connect(
    session: ClientSession,
    url: str | URL,
    *,
    method: str = "GET",
    protocols: Iterable[str] = (),
    timeout: ClientWSTimeout | Any = _SENTINEL,
    receive_timeout: float | None = None,
    autoclose: bool = True,
    autoping: bool = True,
    heartbeat: float | None = None,
    auth: BasicAuth | None = None,
    origin: str | None = None,
    params: Any = None,
    headers: Any = None,
    proxy: Any = None,
    proxy_auth: Any = None,
    ssl: Any = True,
    verify_ssl: bool | None = None,
    fingerprint: bytes | None = None,
    ssl_context: Any = None,
    server_hostname: str | None = None,
    proxy_headers: Any = None,
    compress: int = 0,
    max_msg_size: int = 4 * 1024 * 1024,
    decode_text: bool = True,
) -> ClientWebSocketResponse:
    if session.closed:
        raise RuntimeError("Session is closed")
    window_bits = _offered_window_bits(compress)
    if timeout is _SENTINEL or timeout is None:
        ws_timeout = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, ClientWSTimeout):
        ws_timeout = timeout
    else:  # a number: aiohttp's old spelling of the close timeout
        ws_timeout = ClientWSTimeout(ws_close=float(timeout))
    if receive_timeout is not None:
        ws_timeout = dataclasses.replace(ws_timeout, ws_receive=receive_timeout)
    if verify_ssl is not None or fingerprint is not None or ssl_context is not None:
        ssl = merge_ssl(ssl, verify_ssl, ssl_context, fingerprint, stacklevel=4)
    target = apply_params(build_url(url, getattr(session, "_base_url", None)), params)
    if target.scheme not in ("ws", "wss", "http", "https"):
        raise ValueError(f"Unsupported WebSocket URL scheme: {target.scheme!r}")
    protocols = tuple(protocols)
    key = make_key()
    merged: CIMultiDict[str] = CIMultiDict(session.headers)
    if headers is not None:
        extra: CIMultiDict[str] = CIMultiDict(headers)
        for name in extra:
            merged.popall(name, None)
        merged.extend(extra)
    merged["Upgrade"] = "websocket"
    merged["Connection"] = "Upgrade"
    merged["Sec-WebSocket-Version"] = "13"
    merged["Sec-WebSocket-Key"] = key
    if protocols:
        merged["Sec-WebSocket-Protocol"] = ",".join(protocols)
    if origin is not None:
        merged["Origin"] = origin
    if window_bits:
        merged["Sec-WebSocket-Extensions"] = client_offer(max_window_bits=window_bits)
    auth = auth or session.auth
    if auth is None and getattr(session, "_trust_env", False) and "Authorization" not in merged:
        auth = netrc_auth(target.host)
    req = ClientRequest(
        method,
        http_url(target),
        headers=merged,
        auth=auth,
        ssl=ssl,
        server_hostname=server_hostname,
    )
    try:
        hop = await open_handshake(
            session,
            req,
            proxy=proxy,
            proxy_auth=proxy_auth,
            proxy_headers=proxy_headers,
            spelled_ws=target.scheme in ("ws", "wss"),
        )
    except TimeoutError as exc:
        if isinstance(exc, ServerTimeoutError):
            raise
        raise ServerTimeoutError(f"WebSocket handshake with {target} timed out") from exc
    response = hop.response
    try:
        result = check_client_response(
            response.status, response.headers, key=key, protocols=protocols
        )
    except WSHandshakeError as exc:
        hop.connection.close()
        raise WSServerHandshakeError(
            response.request_info,
            hop.history,
            status=response.status,
            message=exc.message,
            headers=response.headers,
        ) from None
    ws_class = getattr(session, "_ws_response_class", ClientWebSocketResponse)
    ws = ws_class(
        timeout=ws_timeout,
        autoclose=autoclose,
        autoping=autoping,
        heartbeat=heartbeat,
        max_msg_size=max_msg_size,
        protocol=result.protocol,
        headers=response.headers,
        connection=hop.connection,
    )
    conn_ws = WSConnection(
        client=True, max_size=max_msg_size, deflate=result.deflate, decode_text=decode_text
    )
    if result.deflate is not None:
        ws.client_notakeover = result.deflate.local_no_context_takeover
    ws._ws_start(hop.transport, conn_ws, hop.received(), hop.protocol)
    return ws
