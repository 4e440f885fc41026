"""Host name resolution through ``loop.getaddrinfo``, with a small TTL cache."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, TypedDict

__all__ = ["DefaultResolver", "ResolveResult", "ThreadedResolver"]


class ResolveResult(TypedDict):
    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class ThreadedResolver:
    """Resolves with the loop's ``getaddrinfo`` (a thread pool); aiohttp's default."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        # ``loop`` is accepted for aiohttp code; the running loop is used when resolving.
        self._loop = loop

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        out: list[ResolveResult] = []
        for fam, _, proto, _, address in infos:
            if fam == socket.AF_INET6 and len(address) > 3 and address[3]:
                # A scoped link-local address needs its scope id in the host.
                host_str: Any = socket.getnameinfo(address, socket.NI_NUMERICHOST)[0]
            else:
                host_str = address[0]
            out.append(
                ResolveResult(
                    hostname=host,
                    host=str(host_str),
                    port=int(address[1]),
                    family=fam,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return out

    async def close(self) -> None:
        pass


DefaultResolver = ThreadedResolver


class DnsCache:
    """Resolved addresses per (host, port), kept ``ttl`` seconds (None: forever)."""

    def __init__(self, ttl: float | None, max_size: int = 1000) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._entries: dict[tuple[str, int], tuple[list[ResolveResult], float]] = {}

    def get(self, key: tuple[str, int]) -> list[ResolveResult] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        addrs, stamp = entry
        if self._ttl is not None and time.monotonic() - stamp > self._ttl:
            del self._entries[key]
            return None
        return addrs

    def put(self, key: tuple[str, int], addrs: list[ResolveResult]) -> None:
        if len(self._entries) >= self._max_size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (addrs, time.monotonic())

    def clear(self, key: tuple[str, int] | None = None) -> None:
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
