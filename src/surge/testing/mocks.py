"""Requests without a socket: ``make_mocked_request`` and ``make_mocked_coro``.

A mocked request is a real :class:`surge.web.Request` over a head built in memory. Responses
prepared for it go to a :class:`MockedWriter`, which records the status, headers and body
instead of writing to a transport, so a handler can be called directly and its output checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, NamedTuple
from unittest import mock

from multidict import CIMultiDict

from surge.http.h1.parser import RequestHead
from surge.net.streams import EMPTY_PAYLOAD, StreamReader
from surge.server.app import Application
from surge.server.protocol.writer import ResponseWriter
from surge.server.request import Request
from surge.server.routing.match import UrlMappingMatchInfo
from surge.server.routing.resources import AbstractRoute

__all__ = [
    "HttpVersion",
    "MockedTransport",
    "MockedWriter",
    "make_mocked_coro",
    "make_mocked_request",
]


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)


class _Done:
    __slots__ = ()

    def __await__(self) -> Any:
        return
        yield


class MockedWriter(ResponseWriter):
    """Records what a response sends: ``status``, ``reason``, ``headers``, ``body``, ``eof``."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.reason: str | None = None
        self.headers: CIMultiDict[str] | None = None
        self.keep_alive: bool | None = None
        self.chunked = False
        self.body = bytearray()
        self.eof = False
        self.continue_sent = False
        self.writer_closing = False

    @property
    def head_sent(self) -> bool:
        return self.status is not None

    def send_head(
        self,
        request: Any,
        status: int,
        reason: str | None,
        headers: CIMultiDict[str],
        *,
        keep_alive: bool | None,
        chunked: bool,
        body: bytes | None = None,
    ) -> int:
        self.status = status
        self.reason = reason
        self.headers = CIMultiDict(headers)
        self.keep_alive = keep_alive
        self.chunked = chunked
        if body is not None:
            self.body += body
            self.eof = True
        return 0  # nothing is serialised

    def write(self, data: bytes) -> _Done:
        self.body += data
        return _Done()

    def write_eof(self, data: bytes = b"") -> None:
        self.body += data
        self.eof = True

    async def drain(self) -> None:
        pass

    def send_continue(self) -> None:
        self.continue_sent = True


class MockedTransport:
    """A transport that is never written to; answers ``get_extra_info`` like a TCP one."""

    def __init__(self, sslcontext: Any = None, peername: Any = ("127.0.0.1", 12345)) -> None:
        self._extra = {
            "sslcontext": sslcontext,
            "peername": peername,
            "sockname": ("127.0.0.1", 80),
        }
        self.written = bytearray()
        self._closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        value = self._extra.get(name)
        return default if value is None else value

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True


class _MockedProtocol:
    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        self.transport = transport
        self._loop = loop

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _no_handler(request: Any) -> Any:
    raise RuntimeError("a mocked request has no route handler")


class _MockedRoute(AbstractRoute):
    """The route of a mocked request: it matched nothing real."""

    def __init__(self) -> None:
        super().__init__("GET", _no_handler)

    @property
    def name(self) -> str | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return {}

    def url_for(self, *args: str, **kwargs: str) -> Any:
        raise RuntimeError("a mocked request's route has no URL")


def _raw_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [
        (
            k if isinstance(k, bytes) else str(k).encode("latin-1"),
            v if isinstance(v, bytes) else str(v).encode("utf-8"),
        )
        for k, v in items
    ]


def _build_head(
    method: str, path: str, raw: list[tuple[bytes, bytes]], version: tuple[int, int], closing: bool
) -> RequestHead:
    values = CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
    connection = {t.strip().lower() for t in values.get("Connection", "").split(",")}
    if closing or "close" in connection:
        keep_alive = False
    else:
        keep_alive = version >= (1, 1) or "keep-alive" in connection
    length = values.get("Content-Length")
    chunked = length is None and "chunked" in values.get("Transfer-Encoding", "").lower()
    upgrade = "upgrade" in connection and "Upgrade" in values
    return RequestHead(
        method,
        path,
        (version[0], version[1]),
        raw,
        keep_alive,
        upgrade,
        chunked,
        int(length) if length is not None else None,
    )


def make_mocked_request(
    method: str,
    path: str,
    headers: Any = None,
    *,
    match_info: Mapping[str, str] | None = None,
    version: tuple[int, int] = HttpVersion11,
    closing: bool = False,
    app: Application | None = None,
    writer: Any = None,
    protocol: Any = None,
    transport: Any = None,
    payload: StreamReader | bytes = EMPTY_PAYLOAD,
    sslcontext: Any = None,
    client_max_size: int = 1024**2,
    loop: Any = ...,
) -> Request:
    """A :class:`~surge.web.Request` for calling a handler directly, with no connection.

    ``payload`` may be a :class:`StreamReader` or plain bytes; ``writer`` defaults to a
    :class:`MockedWriter` (``request.writer``) that records the response::

        req = make_mocked_request("GET", "/users/1", match_info={"id": "1"})
        resp = await handler(req)
    """
    if loop is ...:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
    if transport is None:
        transport = MockedTransport(sslcontext)
    if protocol is None:
        protocol = _MockedProtocol(transport, loop)
    if writer is None:
        writer = MockedWriter()
    raw = _raw_headers(headers)
    if isinstance(payload, bytes | bytearray):
        body = bytes(payload)
        payload = StreamReader(loop=loop)
        payload.feed_data(body)
        payload.feed_eof()
        if not any(k.lower() in (b"content-length", b"transfer-encoding") for k, _ in raw):
            raw.append((b"Content-Length", str(len(body)).encode()))
    head = _build_head(method, path, raw, version, closing)
    request = Request(head, payload, protocol, writer, None, loop, client_max_size=client_max_size)
    info = UrlMappingMatchInfo(dict(match_info or {}), _MockedRoute())
    info.add_app(app if app is not None else Application())
    info.freeze()
    request.match_info = info
    request._prepare_hooks = info._prepare_signals
    return request


def make_mocked_coro(return_value: Any = None, raise_exception: BaseException | None = None) -> Any:
    """A ``Mock`` wrapping a coroutine function that returns ``return_value`` (or raises)."""

    async def mocked(*args: Any, **kwargs: Any) -> Any:
        if raise_exception is not None:
            raise raise_exception
        return return_value

    return mock.Mock(wraps=mocked)
