"""``session.ws_connect``: the client side of a WebSocket.

A connection comes from the session's connector (so limits, DNS cache and TLS settings apply);
before the opening request is written the transport gets a small handshake protocol that
reads the 101 head itself, so no byte the server sends right after the head is lost. The pool
slot is held until the WebSocket ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Generator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from surge.client.exceptions import (
    ClientConnectionError,
    ServerDisconnectedError,
    ServerTimeoutError,
    WSServerHandshakeError,
)
from surge.client.request import ClientRequest, apply_params, build_url
from surge.http.h1.writer import serialize_request_head
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

_MAX_HEAD = 64 * 1024
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
        self.client_notakeover = False

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


class _HandshakeProtocol(asyncio.Protocol):
    """Reads the server's response head; keeps whatever follows it for the WebSocket."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.done: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        self._buf = bytearray()

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            self._buf += data
            return
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(self._buf[:end])
            tail = bytes(self._buf[end + 4 :])
            self._buf = bytearray()
            self.done.set_result((head, tail))
        elif len(self._buf) > _MAX_HEAD:
            self.done.set_exception(ClientConnectionError("WebSocket response head too large"))

    def leftover(self) -> bytes:
        return bytes(self._buf)

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.done.done():
            self.done.set_exception(ServerDisconnectedError())


def _parse_head(head: bytes) -> tuple[int, str, CIMultiDict[str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ClientConnectionError(f"Invalid response status line: {lines[0]!r}")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ClientConnectionError(f"Invalid response header: {line!r}")
        headers.add(name.strip(), value.strip())
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


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
    if proxy is not None:
        raise NotImplementedError("WebSocket through an HTTP proxy is not supported yet")
    if timeout is _SENTINEL or timeout is None:
        ws_timeout = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, ClientWSTimeout):
        ws_timeout = timeout
    else:  # a number: aiohttp's old spelling of the close timeout
        ws_timeout = ClientWSTimeout(ws_close=float(timeout))
    if receive_timeout is not None:
        ws_timeout = dataclasses.replace(ws_timeout, ws_receive=receive_timeout)
    if ssl_context is not None:
        ssl = ssl_context
    elif verify_ssl is False:
        ssl = False
    target = apply_params(build_url(url, getattr(session, "_base_url", None)), params)
    scheme = {"ws": "http", "wss": "https"}.get(target.scheme, target.scheme)
    if scheme not in ("http", "https"):
        raise ValueError(f"Unsupported WebSocket URL scheme: {target.scheme!r}")
    http_url = target.with_scheme(scheme)
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
    if compress:
        merged["Sec-WebSocket-Extensions"] = client_offer()
    req = ClientRequest(
        method,
        http_url,
        headers=merged,
        auth=auth or session.auth,
        ssl=ssl,
        server_hostname=server_hostname,
    )
    if "Host" not in merged:
        merged["Host"] = req.host_header()
    if req.auth is not None and "Authorization" not in merged:
        merged["Authorization"] = req.auth.encode()
    jar = session.cookie_jar.filter_cookies(req.url)
    if jar:
        merged["Cookie"] = "; ".join(f"{name}={m.value}" for name, m in jar.items())
    connector = session.connector
    if connector is None:
        raise RuntimeError("Session is closed")
    tm = session.timeout
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(tm.total):
            async with asyncio.timeout(tm.connect):
                conn = await connector.connect(req, None, tm, fresh=True)
            proto = conn.protocol
            assert proto is not None and proto.transport is not None
            transport = proto.transport
            shake = _HandshakeProtocol(loop)
            transport.set_protocol(shake)
            target_path = req.url.raw_path_qs or "/"
            try:
                transport.write(serialize_request_head(method, target_path, merged.items()))
                head, tail = await shake.done
            except BaseException:
                conn.close()
                raise
    except TimeoutError as exc:
        raise ServerTimeoutError(f"WebSocket handshake with {target} timed out") from exc
    status, _reason, rheaders = _parse_head(head)
    try:
        result = check_client_response(status, rheaders, key=key, protocols=protocols)
    except WSHandshakeError as exc:
        conn.close()
        raise WSServerHandshakeError(
            req.request_info,
            (),
            status=status,
            message=exc.message,
            headers=CIMultiDictProxy(rheaders),
        ) from None
    if "Set-Cookie" in rheaders:
        from http.cookies import SimpleCookie

        cookies: SimpleCookie = SimpleCookie()
        for value in rheaders.getall("Set-Cookie"):
            cookies.load(value)
        session.cookie_jar.update_cookies(cookies, req.url)
    ws = ClientWebSocketResponse(
        timeout=ws_timeout,
        autoclose=autoclose,
        autoping=autoping,
        heartbeat=heartbeat,
        max_msg_size=max_msg_size,
        protocol=result.protocol,
        headers=CIMultiDictProxy(rheaders),
        connection=conn,
    )
    conn_ws = WSConnection(
        client=True, max_size=max_msg_size, deflate=result.deflate, decode_text=decode_text
    )
    ws._ws_start(transport, conn_ws, tail + shake.leftover(), proto)
    return ws
