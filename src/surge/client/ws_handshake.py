"""The opening handshake of ``session.ws_connect``: connect (directly or through a proxy),
write the upgrade request, read the response head, follow redirects.

Each hop takes a fresh connection from the session's connector, so limits, DNS cache, TLS
settings and the proxy machinery apply. Through a proxy the WebSocket always goes through a
``CONNECT`` tunnel, ws:// as well as wss:// (RFC 6455 4.1); ``Proxy-Authorization`` and
``proxy_headers`` are sent to the proxy only, in the ``CONNECT`` request. Before the upgrade
request is written the transport gets a small protocol that reads the response head itself,
so no byte the server sends right after a 101 head is lost.

Redirects are followed as aiohttp's ``ws_connect`` does (``Authorization`` dropped when the
origin changes; the 10th redirect raises :class:`TooManyRedirects`, as the request default
does); a ``ws://``/``wss://`` ``Location`` is followed too. Requests carry http(s) URLs (the
redirect policy's terms); the connector is handed the ws(s) form, which is what makes a proxy
tunnel. Responses and errors show each hop's URL in the caller's spelling: ws(s) when the
caller (or an absolute ``Location``) said ws(s), http(s) otherwise, as aiohttp reports them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from surge.client.exceptions import (
    ClientConnectionError,
    ServerDisconnectedError,
    TooManyRedirects,
)
from surge.client.policies.redirects import REDIRECT_STATUSES, follow_redirects
from surge.client.proxy import proxy_from_env, proxy_url
from surge.client.request import ClientRequest, RequestInfo
from surge.http.h1.writer import serialize_request_head

if TYPE_CHECKING:
    from surge.client.auth import BasicAuth
    from surge.client.pool import Connection
    from surge.client.session import ClientSession

__all__ = ["Handshake", "HandshakeResponse", "open_handshake"]

_MAX_HEAD = 64 * 1024
_MAX_REDIRECTS = 10  # aiohttp's ws_connect follows redirects with the request default
_HTTP_SCHEME = {"ws": "http", "wss": "https"}
_WS_SCHEME = {"http": "ws", "https": "wss"}


class _HeadReader(asyncio.Protocol):
    """Reads the server's response head; keeps whatever follows it for the WebSocket."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.done: asyncio.Future[tuple[bytes, bytes]] = loop.create_future()
        self._buf = bytearray()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self.done.done():
            return
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


@dataclasses.dataclass(slots=True)
class HandshakeResponse:
    """A response head to the upgrade request (what the redirect policy looks at)."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    request_info: RequestInfo
    url: URL
    method: str = "GET"


@dataclasses.dataclass(slots=True)
class Handshake:
    """The last hop: its request, response head, connection and the bytes read past the
    head (the first WebSocket frames, if the server was quick)."""

    request: ClientRequest
    response: HandshakeResponse
    history: tuple[HandshakeResponse, ...]
    connection: Connection
    transport: asyncio.Transport
    protocol: Any  # the connection's own protocol (its pool bookkeeping stays with it)
    reader: _HeadReader
    tail: bytes

    def received(self) -> bytes:
        """The bytes that came after the response head so far."""
        return self.tail + self.reader.leftover()


class _ProxyChoice:
    """Which proxy each hop goes through: the call's, the session's, or the environment's."""

    __slots__ = ("_fixed", "_from_env")

    def __init__(self, session: ClientSession, proxy: Any, proxy_auth: BasicAuth | None) -> None:
        self._fixed: tuple[URL, BasicAuth | None] | None = None
        if proxy is not None:
            self._fixed = proxy_url(proxy, proxy_auth)
        else:
            self._fixed = getattr(session, "_default_proxy", None)
        self._from_env = self._fixed is None and bool(getattr(session, "_trust_env", False))

    def apply(self, req: ClientRequest) -> None:
        if self._fixed is not None:
            req.proxy, req.proxy_auth = self._fixed
        elif self._from_env:
            req.proxy, req.proxy_auth = proxy_from_env(ws_url(req.url)) or (None, None)


def ws_url(url: URL) -> URL:
    """``url`` with its http(s) scheme spelled ws(s)."""
    scheme = _WS_SCHEME.get(url.scheme)
    return url.with_scheme(scheme) if scheme else url


def http_url(url: URL) -> URL:
    """``url`` with its ws(s) scheme spelled http(s)."""
    scheme = _HTTP_SCHEME.get(url.scheme)
    return url.with_scheme(scheme) if scheme else url


def _for_policy(response: HandshakeResponse) -> HandshakeResponse:
    """The response as the redirect policy should read it: its URL and a ws(s) ``Location``
    in http(s) terms (the policy follows http(s) targets only)."""
    url = http_url(response.url)
    location = response.headers.get("Location")
    scheme, sep, rest = (location or "").partition("://")
    mapped = _HTTP_SCHEME.get(scheme.lower()) if sep else None
    if mapped is None:
        return response if url is response.url else dataclasses.replace(response, url=url)
    headers = CIMultiDict(response.headers)
    headers["Location"] = f"{mapped}://{rest}"
    return dataclasses.replace(response, url=url, headers=CIMultiDictProxy(headers))


def _spelled_ws(response: HandshakeResponse, before: bool) -> bool:
    """Whether the hop a redirect leads to is spelled ws(s): an absolute ``Location`` says
    so itself, a relative one keeps the spelling of the hop it came from."""
    scheme, sep, _ = (response.headers.get("Location") or "").partition("://")
    if not sep:
        return before
    return scheme.lower() in _HTTP_SCHEME


async def open_handshake(
    session: ClientSession,
    req: ClientRequest,
    *,
    proxy: Any,
    proxy_auth: BasicAuth | None,
    proxy_headers: Any,
    spelled_ws: bool = True,
) -> Handshake:
    """Send the upgrade request ``req`` (an http(s) URL), following redirects, and return the
    final hop with its connection still open (the caller checks the response).
    ``spelled_ws``: the caller's URL was ws(s), so responses and errors show it that way."""
    choice = _ProxyChoice(session, proxy, proxy_auth)
    extra = CIMultiDict(proxy_headers) if proxy_headers else None
    tm = session.timeout
    policy = follow_redirects(req, _MAX_REDIRECTS)
    current = next(policy)
    history: list[HandshakeResponse] = []
    async with asyncio.timeout(tm.total):
        while True:
            choice.apply(current)
            current.proxy_headers = extra if current.proxy is not None else None
            hop = await _one_hop(session, current, spelled_ws)
            _store_cookies(session, hop.response.headers, current.url)
            if hop.response.status not in REDIRECT_STATUSES:
                hop.history = tuple(history)
                return hop
            hop.connection.close()
            try:
                current = policy.send(_for_policy(hop.response))
            except StopIteration:  # a redirect the policy does not follow
                hop.history = tuple(history)
                return hop
            except TooManyRedirects as exc:
                # The policy saw the http(s) copies; the caller gets the responses as received.
                raise TooManyRedirects(exc.request_info, (*history, hop.response)) from None
            history.append(hop.response)
            spelled_ws = _spelled_ws(hop.response, spelled_ws)


async def _one_hop(session: ClientSession, req: ClientRequest, spelled_ws: bool) -> Handshake:
    connector = session.connector
    if connector is None:
        raise RuntimeError("Session is closed")
    headers = req.headers
    if "Host" not in headers:
        headers["Host"] = req.host_header()
    if req.auth is not None and "Authorization" not in headers:
        headers["Authorization"] = req.auth.encode()
    jar = session.cookie_jar.filter_cookies(req.url)
    if jar:
        headers["Cookie"] = "; ".join(f"{name}={m.value}" for name, m in jar.items())
    # The connector sees the ws(s) URL: through a proxy that asks for a CONNECT tunnel.
    conn_req = ClientRequest(
        req.method,
        ws_url(req.url),
        headers=headers,
        auth=req.auth,
        ssl=req.ssl,
        server_hostname=req.server_hostname,
    )
    conn_req.proxy, conn_req.proxy_auth = req.proxy, req.proxy_auth
    conn_req.proxy_headers = req.proxy_headers
    tm = session.timeout
    async with asyncio.timeout(tm.connect):
        conn = await connector.connect(conn_req, None, tm, fresh=True)
    proto = conn.protocol
    assert proto is not None and proto.transport is not None
    transport = proto.transport
    tls = transport.get_extra_info("ssl_object")
    if tls is not None and tls.selected_alpn_protocol() == "h2":
        conn.close()  # only HTTP/1.1 was offered; a server that picks h2 anyway is broken
        raise ClientConnectionError("The server chose HTTP/2 for a WebSocket handshake")
    reader = _HeadReader(asyncio.get_running_loop())
    transport.set_protocol(reader)
    try:
        transport.write(
            serialize_request_head(req.method, req.url.raw_path_qs or "/", headers.items())
        )
        head, tail = await reader.done
        status, reason, rheaders = _parse_head(head)
    except BaseException:
        conn.close()
        raise
    url, original = req.url, req.original_url
    if spelled_ws:
        url, original = ws_url(url), ws_url(original)
    response = HandshakeResponse(
        status=status,
        reason=reason,
        headers=CIMultiDictProxy(rheaders),
        request_info=RequestInfo(url, req.method, CIMultiDictProxy(headers), original),
        url=url,
        method=req.method,
    )
    return Handshake(req, response, (), conn, transport, proto, reader, tail)


def _store_cookies(session: ClientSession, headers: CIMultiDictProxy[str], url: URL) -> None:
    if "Set-Cookie" not in headers:
        return
    cookies: SimpleCookie = SimpleCookie()
    for value in headers.getall("Set-Cookie"):
        cookies.load(value)
    session.cookie_jar.update_cookies(cookies, url)
