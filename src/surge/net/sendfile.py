"""Zero-copy file bodies: ``loop.sendfile`` on a plain socket, chunked reads otherwise.

The caller has written the response head already. ``send_file_range`` never closes the file
(its owner does, in a ``finally``), so a client that disconnects mid-file leaves no
descriptor behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import IO

__all__ = ["send_file_range"]

Write = Callable[[bytes], Awaitable[None]]


def _can_sendfile(loop: asyncio.AbstractEventLoop, transport: asyncio.BaseTransport) -> bool:
    # TLS transports have no socket to hand the kernel; uvloop has no loop.sendfile.
    if transport.get_extra_info("sslcontext") is not None:
        return False
    if transport.get_extra_info("socket") is None:
        return False
    return type(loop).sendfile is not asyncio.AbstractEventLoop.sendfile


async def send_file_range(
    loop: asyncio.AbstractEventLoop,
    transport: asyncio.BaseTransport | None,
    file: IO[bytes],
    offset: int,
    count: int,
    *,
    write: Write,
    drain: Callable[[], Awaitable[None]],
    chunk_size: int = 256 * 1024,
) -> None:
    """Send ``count`` bytes of ``file`` from ``offset`` after what is already written.

    ``write`` and ``drain`` are the response writer's (used by the fallback and to flush the
    head before the kernel takes over the socket).
    """
    if count <= 0:
        return
    if transport is None or transport.is_closing():
        raise ConnectionResetError("Connection lost")
    if _can_sendfile(loop, transport):
        await drain()
        try:
            sent = await loop.sendfile(
                transport,  # type: ignore[arg-type]
                file,
                offset,
                count,
                fallback=False,
            )
        except (NotImplementedError, asyncio.SendfileNotAvailableError):
            pass
        else:
            if sent < count:
                raise OSError("File shrank while being sent")
            return
    await _send_by_reading(loop, file, offset, count, write, chunk_size)


async def _send_by_reading(
    loop: asyncio.AbstractEventLoop,
    file: IO[bytes],
    offset: int,
    count: int,
    write: Write,
    chunk_size: int,
) -> None:
    file.seek(offset)
    remaining = count
    # Small reads from the page cache are cheaper inline than a thread hop.
    inline = count <= chunk_size
    while remaining > 0:
        size = min(chunk_size, remaining)
        if inline:
            data = file.read(size)
        else:
            data = await loop.run_in_executor(None, file.read, size)
        if not data:
            raise OSError("File shrank while being sent")
        remaining -= len(data)
        await write(data)
