"""aiohttp client names with no other home in surge: the aiodns resolver, Windows named-pipe
connector, upload tracking, ``encode_basic_auth``, ``set_zlib_backend`` and WebSocket errors."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from typing import Any

from surge.client.auth import BasicAuth
from surge.client.connector import BaseConnector
from surge.client.resolver import ResolveResult
from surge.http.zlib_backend import ZlibModule, set_backend

__all__ = [
    "AddrInfoType",
    "AsyncResolver",
    "NamedPipeConnector",
    "SocketFactoryType",
    "UploadTracker",
    "WSMessageTypeError",
    "WebSocketError",
    "encode_basic_auth",
    "set_zlib_backend",
]

AddrInfoType = tuple[int | socket.AddressFamily, int | socket.SocketKind, int, str, tuple[Any, ...]]
SocketFactoryType = Callable[[AddrInfoType], socket.socket]


class WebSocketError(Exception):
    """A WebSocket protocol error; ``code`` is the close code."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])


class WSMessageTypeError(TypeError):
    """A received WebSocket message is not of the expected type (``receive_str`` got binary)."""


def encode_basic_auth(login: str, password: str = "", encoding: str = "utf-8") -> str:
    """The ``Authorization`` header value for HTTP Basic auth: ``"Basic dXNlcjpwdw=="``."""
    return BasicAuth(login, password, encoding).encode()


def set_zlib_backend(new_zlib_backend: ZlibModule) -> None:
    """Use a zlib-compatible module for gzip, deflate and WebSocket compression, as aiohttp.

    surge starts with ``zlib_ng.zlib_ng`` when installed (the ``speedups`` extra), else the
    standard library's ``zlib``; ``set_zlib_backend(zlib)`` goes back to the standard one.
    Streams already started keep their module. A module without ``compressobj``,
    ``decompressobj`` and ``error`` raises TypeError::

        import zlib_ng.zlib_ng
        surge.set_zlib_backend(zlib_ng.zlib_ng)
    """
    set_backend(new_zlib_backend)


class AsyncResolver:
    """DNS resolution with aiodns (c-ares), as aiohttp's ``AsyncResolver``; needs ``aiodns``."""

    def __init__(self, loop: Any = None, *args: Any, **kwargs: Any) -> None:
        try:
            import aiodns  # type: ignore[import-not-found]
        except ImportError:
            raise RuntimeError("Resolver requires aiodns library") from None
        self._resolver = aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer = await self._resolver.getaddrinfo(
            host, port=port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        out: list[ResolveResult] = []
        for node in answer.nodes:
            address = node.addr
            out.append(
                ResolveResult(
                    hostname=host,
                    host=address[0].decode() if isinstance(address[0], bytes) else address[0],
                    port=int(address[1]),
                    family=node.family,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not out:
            raise OSError(None, "DNS lookup failed")
        return out

    async def close(self) -> None:
        self._resolver.cancel()


class NamedPipeConnector(BaseConnector):
    """Windows named pipes; like aiohttp's, it needs a ``ProactorEventLoop`` (Windows only)."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        self._path: str = path
        if sys.platform != "win32":
            raise RuntimeError("Named Pipes only available in proactor loop under windows")
        super().__init__(*args, **kwargs)  # pragma: no cover - Windows

    @property
    def path(self) -> str:  # pragma: no cover - Windows
        return self._path


class UploadTracker:
    """Observes one request's upload: ``bytes_written`` so far, ``attempts``, ``upload_complete``.

    Pass it as ``upload_tracker=`` (aiohttp 3.14) or as the ``on_upload_progress=`` callback.
    """

    bytes_written: int
    attempts: int
    upload_complete: bool

    def __init__(self) -> None:
        self.bytes_written = 0
        self.attempts = 0
        self.upload_complete = False
        self._total: int | None = None

    def __call__(self, sent: int, total: int | None) -> None:
        if sent == 0 or sent < self.bytes_written:
            self.attempts += 1  # a new attempt (retry or redirect) starts over
        self.bytes_written = sent
        self._total = total
        self.upload_complete = total is not None and sent >= total
