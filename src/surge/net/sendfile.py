"""Zero-copy file bodies: ``loop.sendfile`` on a plain socket, chunked reads otherwise.

The caller has written the response head already. ``send_file_range`` never closes the file
(its owner does, in a ``finally``), so a client that disconnects mid-file leaves no
descriptor behind.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import IO

__all__ = ["send_file_range"]

Write = Callable[[bytes], Awaitable[None]]
# Bytes handed to the transport when the socket is full: its flush is our writability signal.
_NUDGE = 64 * 1024


def _can_sendfile(loop: asyncio.AbstractEventLoop, transport: asyncio.BaseTransport) -> bool:
    # TLS transports have no socket to hand the kernel; uvloop has no loop.sendfile.
    if transport.get_extra_info("sslcontext") is not None:
        return False
    if transport.get_extra_info("socket") is None:
        return False
    return type(loop).sendfile is not asyncio.AbstractEventLoop.sendfile


def _socket_fd(transport: asyncio.BaseTransport) -> int | None:
    """The plain TCP socket under ``transport`` (for os.sendfile), or None."""
    if not hasattr(os, "sendfile") or transport.get_extra_info("sslcontext") is not None:
        return None
    sock = transport.get_extra_info("socket")
    if sock is None or not hasattr(transport, "set_write_buffer_limits"):
        return None
    try:
        return int(sock.fileno())
    except (AttributeError, OSError, ValueError):
        return None


async def _send_by_os_sendfile(
    transport: asyncio.WriteTransport,
    out_fd: int,
    file: IO[bytes],
    offset: int,
    count: int,
    write: Write,
    drain: Callable[[], Awaitable[None]],
) -> None:
    """``os.sendfile`` straight to the socket while the transport's buffer is empty.

    For loops without ``loop.sendfile`` (uvloop), which also refuse ``add_writer`` on a
    transport's socket. With the write limits at zero the protocol is paused whenever the
    transport holds data and resumed once it is flushed, so ``drain`` means "buffer empty":
    the kernel never sees file bytes ahead of bytes still queued in the transport. When the
    socket is full, one small chunk goes through the transport, which waits for
    writability; its drain wakes us to continue.
    """
    in_fd = file.fileno()
    low, high = transport.get_write_buffer_limits()
    transport.set_write_buffer_limits(high=0)
    try:
        await drain()
        while count > 0:
            if transport.is_closing():
                raise ConnectionResetError("Connection lost")
            if transport.get_write_buffer_size():
                await drain()
                if transport.get_write_buffer_size():  # not paused yet: let the loop flush
                    await asyncio.sleep(0.001)
                continue
            try:
                sent = os.sendfile(out_fd, in_fd, offset, count)
            except BlockingIOError:
                data = os.pread(in_fd, min(count, _NUDGE), offset)
                if not data:
                    raise OSError("File shrank while being sent") from None
                offset += len(data)
                count -= len(data)
                await write(data)
                await drain()
                continue
            if sent == 0:
                raise OSError("File shrank while being sent")
            offset += sent
            count -= sent
    finally:
        if not transport.is_closing():
            transport.set_write_buffer_limits(high=high, low=low)


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
    elif count > _NUDGE and (out_fd := _socket_fd(transport)) is not None:
        await _send_by_os_sendfile(
            transport,  # type: ignore[arg-type]
            out_fd,
            file,
            offset,
            count,
            write,
            drain,
        )
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
