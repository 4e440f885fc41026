"""Where a request came from: peer address, scheme, host, URL and ``Forwarded`` headers.

A mixin of :class:`~surge.server.request.BaseRequest`; every value is computed on first
access and cached on the instance (``clone(scheme=..., host=..., remote=...)`` and the
request's constructor store overrides there directly).
"""

from __future__ import annotations

import asyncio
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from yarl import URL

from surge.util.reify import reify

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

__all__ = ["RequestOrigin"]


class RequestOrigin:
    """``remote``, ``scheme``, ``secure``, ``host``, ``url``, ``forwarded``."""

    if TYPE_CHECKING:
        headers: CIMultiDictProxy[str]
        rel_url: URL

        @property
        def transport(self) -> asyncio.Transport | None: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    @reify
    def remote(self) -> str | None:
        """The peer's address (IP, or the Unix socket path)."""
        transport = self.transport
        if transport is None:
            return None
        peer = transport.get_extra_info("peername")
        if isinstance(peer, list | tuple):
            return str(peer[0])
        return str(peer) if peer is not None else None

    @reify
    def secure(self) -> bool:
        return self.scheme == "https"

    @reify
    def scheme(self) -> str:
        """``https`` when the connection is TLS, else ``http`` (never from the target)."""
        transport = self.transport
        if transport is not None and transport.get_extra_info("sslcontext") is not None:
            return "https"
        return "http"

    @reify
    def url(self) -> URL:
        """The absolute URL, built from the scheme and Host header."""
        return URL.build(scheme=self.scheme, authority=self.host).join(self.rel_url)

    @reify
    def host(self) -> str:
        """The Host header, else the machine's name (``socket.getfqdn()``)."""
        host = self.headers.get("Host")
        if host is not None:
            return host
        import socket

        return socket.getfqdn()

    @reify
    def forwarded(self) -> tuple[MappingProxyType[str, str], ...]:
        """The parsed ``Forwarded`` headers (RFC 7239), one mapping per element."""
        from surge.http.headers import parse_forwarded

        return tuple(
            MappingProxyType(e) for e in parse_forwarded(self.headers.getall("Forwarded", []))
        )
