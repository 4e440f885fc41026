"""Connectors: where connections come from (TCP with a DNS cache and TLS; Unix sockets).

The pool they go back to, and the limits, live in :mod:`surge.client.pool`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl as ssllib
from typing import Any

from surge.client.connection.h1 import H1Connection
from surge.client.exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ConnectionKey,
    ConnectionTimeoutError,
)
from surge.client.pool import _SENTINEL, BaseConnector, Connection
from surge.client.request import ClientRequest
from surge.client.resolver import DefaultResolver, DnsCache, ResolveResult
from surge.client.timeouts import ClientTimeout

__all__ = ["BaseConnector", "Connection", "TCPConnector", "UnixConnector"]


def _make_ssl_context(verified: bool) -> ssllib.SSLContext:
    if verified:
        ctx = ssllib.create_default_context()
    else:
        ctx = ssllib.SSLContext(ssllib.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssllib.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


_SSL_CONTEXTS: dict[bool, ssllib.SSLContext] = {}


def ssl_context_for(value: Any) -> ssllib.SSLContext:
    """The SSLContext for an ``ssl=`` value: True/None (verify), False (don't), a context."""
    if isinstance(value, ssllib.SSLContext):
        return value
    verified = value is not False
    ctx = _SSL_CONTEXTS.get(verified)
    if ctx is None:
        ctx = _SSL_CONTEXTS[verified] = _make_ssl_context(verified)
    return ctx


class TCPConnector(BaseConnector):
    """TCP connections, with a DNS cache (``ttl_dns_cache`` seconds) and TLS.

    ``TCPConnector(limit=100, limit_per_host=30, ttl_dns_cache=300, keepalive_timeout=30)``
    """

    def __init__(
        self,
        *,
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
    ) -> None:
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
        return ConnectionKey(
            req.url.raw_host or "", req.url.port, req.is_ssl, ssl, req.server_hostname
        )

    async def _resolve(self, host: str, port: int, key: ConnectionKey) -> list[ResolveResult]:
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
                return cached
        try:
            addrs = await self._resolver.resolve(host, port, family=self._family)
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        if not addrs:
            raise ClientConnectorDNSError(key, OSError(None, f"Could not resolve host {host}"))
        if self._use_dns_cache:
            self._dns_cache.put(cache_key, addrs)
        return list(addrs)

    async def _create_connection(
        self, req: ClientRequest, key: ConnectionKey, timeout: ClientTimeout | None
    ) -> H1Connection:
        host = req.url.raw_host or ""
        port = req.url.port or (443 if req.is_ssl else 80)
        addrs = await self._resolve(host, port, key)
        ssl_ctx = ssl_context_for(key.ssl) if req.is_ssl else None
        loop = asyncio.get_running_loop()
        last: OSError | None = None
        for addr in addrs:
            try:
                return await self._open(
                    key,
                    timeout,
                    loop.create_connection,
                    host=addr["host"],
                    port=addr["port"],
                    ssl=ssl_ctx,
                    family=addr["family"],
                    proto=addr["proto"],
                    flags=addr["flags"],
                    server_hostname=(req.server_hostname or host.rstrip(".")) if ssl_ctx else None,
                    local_addr=self._local_addr,
                )
            except (
                ClientConnectorSSLError,
                ClientConnectorCertificateError,
                ConnectionTimeoutError,
            ):
                raise
            except OSError as exc:
                last = exc
        assert last is not None
        raise ClientConnectorError(key, last) from last


class UnixConnector(BaseConnector):
    """Connections over a Unix domain socket: ``UnixConnector(path="/run/app.sock")``."""

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
        self, req: ClientRequest, key: ConnectionKey, timeout: ClientTimeout | None
    ) -> H1Connection:
        loop = asyncio.get_running_loop()
        try:
            return await self._open(key, timeout, loop.create_unix_connection, path=self._path)
        except OSError as exc:
            if isinstance(exc, (ClientConnectorError, ConnectionTimeoutError)):
                raise
            raise ClientConnectorError(key, exc) from exc
