"""The floor: a bare uvloop + httptools protocol answering the benchmark's requests.

Not a framework: no request object, no router, prebuilt responses. It shows what a request costs
on this machine before any framework work, so the surge/aiohttp ratios can be read against what
is physically reachable (issue 2 measured about 18 µs per plaintext request for it).
"""

from __future__ import annotations

import asyncio
import json
from typing import cast

import httptools

from bench.apps.app import HELLO, JSON_BODY


def _response(body: bytes, content_type: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


_PREBUILT = {
    b"/": _response(HELLO.encode(), b"text/plain; charset=utf-8"),
    b"/json": _response(json.dumps(JSON_BODY).encode(), b"application/json"),
}
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class FloorProtocol(asyncio.Protocol):
    """One connection; keep-alive, answers in order, echo for POST /echo."""

    def __init__(self) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            assert self._transport is not None
            self._transport.close()

    def on_url(self, url: bytes) -> None:
        self._url = url

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        assert self._transport is not None
        url, self._url = self._url, b""
        if self._body:
            body = b"".join(self._body)
            self._body.clear()
            out = _response(body, b"application/octet-stream")
        elif url.startswith(b"/route/"):
            out = _response(url[7:], b"text/plain; charset=utf-8")
        else:
            out = _PREBUILT.get(url, _NOT_FOUND)
        self._transport.write(out)
