"""Connectors: where connections come from (TCP with a DNS cache and TLS; Unix sockets).

The pool they go back to, and the limits, live in :mod:`surge.client.pool`.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl as ssllib
from collections.abc import Callable, Sequence
from typing import Any, cast

from multidict import CIMultiDict, CIMultiDictProxy

from surge.client.connection.h1 import H1Connection, ResponseSettings
from surge.client.connection.h2 import AlpnSwitch, H2ClientConnection
from surge.client.deprecated import SENTINEL, merge_ssl, warn_ssl_shutdown_timeout
from surge.client.exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    ConnectionKey,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
)
from surge.client.fingerprint import Fingerprint
from surge.client.happy_eyeballs import interleave_addresses, race, sequential
from surge.client.pool import _SENTINEL, BaseConnector, Connection
from surge.client.proxy import connect_head
from surge.client.request import ClientRequest
from surge.client.resolver import DefaultResolver, DnsCache, ResolveResult
from surge.client.timeouts import ClientTimeout
from surge.client.tracing import Trace
from surge.http.errors import HttpProtocolError

__all__ = ["BaseConnector", "Connection", "SocketFactory", "TCPConnector", "UnixConnector"]

SocketFactory = Callable[[tuple[Any, ...]], socket.socket]
"""``socket_factory(addr_info)``: ``addr_info`` is ``(family, type, proto, canonname, sockaddr)``."""


def _make_ssl_context(verified: bool, h2: bool = False) -> ssllib.SSLContext:
    if verified:
        ctx = ssllib.create_default_context()
    else:
        ctx = ssllib.SSLContext(ssllib.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssllib.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"] if h2 else ["http/1.1"])
    return ctx


_SSL_CONTEXTS: dict[tuple[bool, bool], ssllib.SSLContext] = {}


def ssl_context_for(value: Any, h2: bool = False) -> ssllib.SSLContext:
    """The SSLContext for an ``ssl=`` value: True/None (verify), False or a
    :class:`Fingerprint` (don't; the pin is checked after the handshake), a context.
    ``h2``: offer HTTP/2 by ALPN, else HTTP/1.1 only (also on a context passed in)."""
    if isinstance(value, ssllib.SSLContext):
        # Set on the caller's context too (ssl has no getter to respect an own list); without
        # h2 it must not keep offering h2 from an earlier https request (a WebSocket, a tunnel).
        value.set_alpn_protocols(["h2", "http/1.1"] if h2 else ["http/1.1"])
        return value
    verified = value is not False and not isinstance(value, Fingerprint)
    ctx = _SSL_CONTEXTS.get((verified, h2))
    if ctx is None:
        ctx = _SSL_CONTEXTS[(verified, h2)] = _make_ssl_context(verified, h2)
    return ctx


class TCPConnector(BaseConnector):
    """TCP connections, with a DNS cache (``ttl_dns_cache`` seconds) and TLS.

    ``TCPConnector(limit=100, limit_per_host=30, ttl_dns_cache=300, keepalive_timeout=30)``

    ``socket_factory(addr_info) -> socket.socket`` makes each socket (to set options such as
    ``TCP_NODELAY`` or keep-alive before it connects); ``addr_info`` is ``(family, type,
    proto, canonname, sockaddr)``. ``verify_ssl``, ``fingerprint`` and ``ssl_context`` are
    aiohttp's deprecated spellings of ``ssl=``.
    """

    allowed_protocol_schema_set = BaseConnector.allowed_protocol_schema_set | {"tcp"}

    def __init__(
        self,
        *,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: ssllib.SSLContext | None = None,
        ssl: Any = True,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        dns_cache_max_size: int = 1000,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        local_addr: tuple[str, int] | None = None,
        resolver: Any = None,
        keepalive_timeout: float | None = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        http2: bool | str = True,
        socket_factory: SocketFactory | None = None,
        ssl_shutdown_timeout: float | None = SENTINEL,
    ) -> None:
        if verify_ssl is not None or fingerprint is not None or ssl_context is not None:
            ssl = merge_ssl(ssl, verify_ssl, ssl_context, fingerprint)
        warn_ssl_shutdown_timeout(ssl_shutdown_timeout)
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._ssl = ssl
        self._use_dns_cache = use_dns_cache
        self._dns_cache = DnsCache(ttl_dns_cache, dns_cache_max_size)
        self._family = family
        self._local_addr = local_addr
        self._resolver = resolver if resolver is not None else DefaultResolver()
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave
        self._socket_factory = socket_factory
        if http2 not in (True, False, "prior_knowledge"):
            raise ValueError('http2 must be True, False or "prior_knowledge"')
        # HTTP/2 by ALPN on https (True), also by prior knowledge on http ("prior_knowledge").
        self._http2 = http2

    @property
    def family(self) -> int:
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        return self._use_dns_cache

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        if host is not None and port is not None:
            self._dns_cache.clear((host, port))
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._dns_cache.clear()

    def _key(self, req: ClientRequest) -> ConnectionKey:
        ssl = (req.ssl if req.ssl is not True else self._ssl) if req.is_ssl else None
        if req.proxy is None:
            return ConnectionKey(
                req.url.raw_host or "", req.url.port, req.is_ssl, ssl, req.server_hostname
            )
        headers = req.proxy_headers
        return ConnectionKey(
            req.url.raw_host or "",
            req.url.port,
            req.is_ssl,
            ssl,
            req.server_hostname,
            req.proxy,
            req.proxy_auth,
            hash(tuple(headers.items())) if headers else None,
        )

    async def _resolve(
        self, host: str, port: int, key: ConnectionKey, traces: Sequence[Trace] = ()
    ) -> list[ResolveResult]:
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        except OSError:
            pass
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            return [
                ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
            ]
        cache_key = (host, port)
        if self._use_dns_cache:
            cached = self._dns_cache.get(cache_key)
            if cached is not None:
                for trace in traces:
                    await trace.send_dns_cache_hit(host)
                return cached
            for trace in traces:
                await trace.send_dns_cache_miss(host)
        for trace in traces:
            await trace.send_dns_resolvehost_start(host)
        try:
            addrs = await self._resolver.resolve(host, port, family=self._family)
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        if not addrs:
            raise ClientConnectorDNSError(key, OSError(None, f"Could not resolve host {host}"))
        for trace in traces:
            await trace.send_dns_resolvehost_end(host)
        if self._use_dns_cache:
            self._dns_cache.put(cache_key, addrs)
        return list(addrs)

    async def _create_connection(
        self,
        req: ClientRequest,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
        traces: Sequence[Trace] = (),
    ) -> H1Connection:
        if req.proxy is not None:
            return await self._create_proxy_connection(req, key, timeout, traces)
        host = req.url.raw_host or ""
        port = req.url.port or (443 if req.is_ssl else 80)
        # A WebSocket handshake is HTTP/1.1 (this client does not speak RFC 8441).
        http2 = self._http2 if req.url.scheme not in _WS_SCHEMES else False
        ssl_ctx = ssl_context_for(key.ssl, bool(http2)) if req.is_ssl else None
        server_hostname = (req.server_hostname or host.rstrip(".")) if ssl_ctx else None
        loop = asyncio.get_running_loop()
        factory: Any = None
        if ssl_ctx is not None:
            # Whatever ALPN agreed on is spoken (a context passed in may offer h2 itself).
            factory = functools.partial(AlpnSwitch, loop)
        elif ssl_ctx is None and http2 == "prior_knowledge":
            factory = functools.partial(H2ClientConnection, loop, b"http")
        proto = await self._connect_host(
            host,
            port,
            key,
            timeout,
            traces,
            ssl=ssl_ctx,
            server_hostname=server_hostname,
            factory=factory,
        )
        self._check_fingerprint(proto, key)
        return proto

    async def _connect_host(
        self,
        host: str,
        port: int,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
        traces: Sequence[Trace],
        **kwargs: Any,
    ) -> H1Connection:
        addrs = interleave_addresses(await self._resolve(host, port, key, traces), self._interleave)
        loop = asyncio.get_running_loop()
        if self._socket_factory is not None:
            attempts = [
                functools.partial(
                    self._open,
                    key,
                    timeout,
                    functools.partial(self._connect_socket, addr),
                    **kwargs,
                )
                for addr in addrs
            ]
        else:
            attempts = [
                functools.partial(
                    self._open,
                    key,
                    timeout,
                    loop.create_connection,
                    host=addr["host"],
                    port=addr["port"],
                    family=addr["family"],
                    proto=addr["proto"],
                    flags=addr["flags"],
                    local_addr=self._local_addr,
                    **kwargs,
                )
                for addr in addrs
            ]
        delay = self._happy_eyeballs_delay
        if delay is None or len(attempts) == 1:
            proto, errors = await sequential(attempts)
        else:
            proto, errors = await race(attempts, delay, _close_loser)
        if proto is not None:
            return proto
        last: BaseException | None = None
        for error in errors:
            if isinstance(error, _FINAL_ERRORS) or not isinstance(error, OSError):
                raise error  # type: ignore[misc]
            last = error
        assert isinstance(last, OSError)
        raise ClientConnectorError(key, last) from last

    async def _connect_socket(
        self, addr: ResolveResult, factory: Any, **kwargs: Any
    ) -> tuple[asyncio.BaseTransport, Any]:
        """Connect a socket made by ``socket_factory``, then wrap it (TLS too) in ``factory``."""
        assert self._socket_factory is not None
        loop = asyncio.get_running_loop()
        family = addr["family"]
        info = await loop.getaddrinfo(
            addr["host"],
            addr["port"],
            family=family,
            type=socket.SOCK_STREAM,
            proto=addr["proto"],
            flags=addr["flags"] | socket.AI_NUMERICHOST,
        )
        family, kind, proto, canonname, sockaddr = info[0]
        sock = self._socket_factory((family, kind, proto, canonname, sockaddr))
        try:
            sock.setblocking(False)
            if self._local_addr is not None:
                sock.bind(self._local_addr)
            await loop.sock_connect(sock, sockaddr)
            return await loop.create_connection(factory, sock=sock, **kwargs)
        except BaseException:
            sock.close()
            raise

    def _check_fingerprint(self, proto: H1Connection, key: ConnectionKey) -> None:
        if isinstance(key.ssl, Fingerprint) and proto.transport is not None:
            try:
                key.ssl.check(proto.transport)
            except ServerFingerprintMismatch:
                proto.abort()
                raise

    async def _create_proxy_connection(
        self,
        req: ClientRequest,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
        traces: Sequence[Trace],
    ) -> H1Connection:
        proxy = req.proxy
        assert proxy is not None
        proxy_key = ConnectionKey(proxy.raw_host or "", proxy.port or 80, False, None, None)
        try:
            proto = await self._connect_host(
                proxy_key.host, proxy.port or 80, proxy_key, timeout, traces, ssl=None
            )
        except ClientConnectorError as exc:
            if isinstance(exc, ClientConnectorDNSError):
                raise
            raise ClientProxyConnectionError(proxy_key, exc.os_error) from exc
        if not req.is_ssl and req.url.scheme != "ws":
            return proto  # plain http: the request goes to the proxy in absolute form
        # https, and a WebSocket even in the clear (RFC 6455 4.1): a CONNECT tunnel.
        try:
            await self._open_tunnel(proto, req, key, timeout)
        except BaseException:
            proto.abort()
            raise
        return proto

    async def _open_tunnel(
        self,
        proto: H1Connection,
        req: ClientRequest,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
    ) -> None:
        """``CONNECT`` through the proxy, then TLS to the origin on the same socket (for an
        https or wss target)."""
        host = req.url.raw_host or ""
        port = req.url.port or (443 if req.is_ssl else 80)
        head = connect_head(host, port, req.proxy_auth, req.proxy_headers)
        settings = ResponseSettings(
            auto_decompress=False, sock_read=timeout.sock_read if timeout is not None else None
        )
        # head_request: a 2xx to CONNECT has no body; the tunnel starts after the head.
        waiter = proto.start(head, True, settings)
        try:
            rhead, _ = await waiter
        except HttpProtocolError as err:
            raise ClientHttpProxyError(
                req.request_info, (), status=0, message=f"Malformed proxy response: {err}"
            ) from None
        if not 200 <= rhead.status < 300:
            raise ClientHttpProxyError(
                req.request_info,
                (),
                status=rhead.status,
                message=rhead.reason,
                headers=CIMultiDictProxy(
                    CIMultiDict(
                        (n.decode("latin-1"), v.decode("latin-1")) for n, v in rhead.headers
                    )
                ),
            )
        proto.reused = 0  # the CONNECT exchange is not a request of the origin's
        if not req.is_ssl:
            return
        transport = proto.transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        sock_connect = timeout.sock_connect if timeout is not None else None
        try:
            async with asyncio.timeout(sock_connect):
                tls = await loop.start_tls(
                    transport,
                    proto,
                    ssl_context_for(key.ssl),
                    server_hostname=(req.server_hostname or host.rstrip(".")),
                )
        except TimeoutError:
            raise ConnectionTimeoutError(f"TLS handshake timeout to host {host}:{port}") from None
        except ssllib.SSLCertVerificationError as exc:
            raise ClientConnectorCertificateError(key, exc) from exc
        except ssllib.SSLError as exc:
            raise ClientConnectorSSLError(key, exc) from exc
        proto.transport = cast(asyncio.Transport, tls)
        self._check_fingerprint(proto, key)


_WS_SCHEMES = frozenset({"ws", "wss"})


def _close_loser(proto: Any) -> None:
    proto.close()


_FINAL_ERRORS = (
    ClientConnectorSSLError,
    ClientConnectorCertificateError,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
)


class UnixConnector(BaseConnector):
    """Connections over a Unix domain socket: ``UnixConnector(path="/run/app.sock")``."""

    allowed_protocol_schema_set = BaseConnector.allowed_protocol_schema_set | {"unix"}

    def __init__(
        self,
        path: str,
        *,
        keepalive_timeout: float | None = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    async def _create_connection(
        self,
        req: ClientRequest,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
        traces: Sequence[Trace] = (),
    ) -> H1Connection:
        loop = asyncio.get_running_loop()
        try:
            return await self._open(key, timeout, loop.create_unix_connection, path=self._path)
        except OSError as exc:
            if isinstance(exc, (ClientConnectorError, ConnectionTimeoutError)):
                raise
            raise ClientConnectorError(key, exc) from exc
