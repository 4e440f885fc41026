"""Serving an app on a real loopback socket for tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from surge import web


@contextlib.asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 with a free port; yields the base URL."""
    runner = web.AppRunner(app, access_log=None, **kwargs)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site.port}"
    finally:
        await runner.cleanup()


async def raw_exchange(port: int, data: bytes, *, timeout: float = 2.0) -> bytes:
    """Send raw bytes, read until the server closes (or ``timeout``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    chunks = []
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
    except TimeoutError:
        pass
    writer.close()
    return b"".join(chunks)
