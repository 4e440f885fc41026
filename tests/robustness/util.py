"""A server whose handler records every request, and a raw-socket client that reports
whether the server closed the connection."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from surge import web
from tests.helpers import serve

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


class Recorder:
    """The paths the handler ran for, in order."""

    def __init__(self) -> None:
        self.paths: list[str] = []


@contextlib.asynccontextmanager
async def serve_recording(
    app: web.Application | None = None, **kwargs: Any
) -> AsyncIterator[tuple[int, Recorder]]:
    """Serve ``app`` plus a catch-all route that records its path; yields (port, recorder)."""
    recorder = Recorder()

    async def record(request: web.Request) -> web.Response:
        recorder.paths.append(request.path)
        return web.Response(text=f"ok {request.path}")

    app = app or web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    async with serve(app, **kwargs) as url:
        yield int(url.rsplit(":", 1)[1]), recorder


async def exchange(
    port: int, data: bytes, *, timeout: float = 3.0, shut: bool = False
) -> tuple[bytes, bool]:
    """Send ``data`` and read until the server closes; returns (received, closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunks: list[bytes] = []
    closed = False
    try:
        writer.write(data)
        await writer.drain()
        if shut:
            writer.write_eof()
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
        closed = True
    except TimeoutError:
        pass
    except ConnectionError:
        closed = True
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return b"".join(chunks), closed


def statuses(data: bytes) -> list[int]:
    """The status codes of the responses in ``data`` (bodies here never look like one)."""
    return [int(m) for m in _STATUS.findall(data)]


def request(path: str = "/after", extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"
