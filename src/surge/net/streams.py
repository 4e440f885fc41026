"""StreamReader: the body of a message as an async byte stream, with flow control.

Invariants: bytes come out in the order they were fed; once the buffer holds more than
``high_water`` bytes the feeding transport is paused, and it is resumed when a reader brings
the buffer under ``low_water``. An exception set by the feeder is raised to the next reader.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

__all__ = ["EMPTY_PAYLOAD", "EofStream", "FlowControl", "StreamReader"]


class EofStream(Exception):
    """Raised internally when a stream is at EOF."""


class FlowControl(Protocol):
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...


class _NoFlowControl:
    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


_NO_FLOW = _NoFlowControl()


class StreamReader:
    """An aiohttp-compatible byte stream (``request.content``, ``response.content``).

    ``total_bytes`` counts the bytes fed (decoded, when the body is decompressed);
    ``total_compressed_bytes`` the encoded bytes received while decompressing (None when
    nothing is decompressed); ``total_raw_bytes`` the body's bytes as received.
    """

    total_bytes: int
    # Set to a count (from 0) by the feeder that decompresses; the class default costs
    # undecoded bodies nothing.
    total_compressed_bytes: int | None = None

    def __init__(
        self,
        protocol: FlowControl | None = None,
        limit: int = 2**16,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._protocol = protocol or _NO_FLOW
        self._high_water = limit * 2
        self._low_water = limit
        self._loop = loop
        self._buffer: deque[bytes] = deque()
        self._size = 0
        self._offset = 0  # consumed bytes of _buffer[0]
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None
        self._eof_waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._paused = False
        self._eof_callbacks: list[Callable[[], None]] = []
        self._chunk_ends: deque[int] = deque()  # total_bytes offsets where HTTP chunks ended
        self.total_bytes = 0

    @property
    def total_raw_bytes(self) -> int:
        """The body's bytes as they arrived (before decompression, without chunk framing)."""
        compressed = self.total_compressed_bytes
        return self.total_bytes if compressed is None else compressed

    def __repr__(self) -> str:
        state = "eof" if self._eof else f"{self._size} bytes"
        return f"<StreamReader {state}>"

    # feeding side --------------------------------------------------------------------------

    def exception(self) -> BaseException | None:
        return self._exception

    def get_read_buffer_limits(self) -> tuple[int, int]:
        """``(low_water, high_water)``: reading pauses above high, resumes under low."""
        return self._low_water, self._high_water

    def set_exception(self, exc: BaseException, exc_cause: BaseException | None = None) -> None:
        if exc_cause is not None:
            exc.__cause__ = exc_cause
        self._exception = exc
        self._eof_callbacks.clear()
        self._wake(exc)

    def on_eof(self, callback: Callable[[], None]) -> None:
        if self._eof:
            callback()
        else:
            self._eof_callbacks.append(callback)

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()
        waiter = self._eof_waiter
        if waiter is not None:
            self._eof_waiter = None
            if not waiter.done():
                waiter.set_result(None)
        for cb in self._eof_callbacks:
            cb()
        self._eof_callbacks.clear()

    def feed_data(self, data: bytes, size: int = 0) -> None:
        if not data:
            return
        if self._eof:
            raise RuntimeError("feed_data() after feed_eof()")
        self._buffer.append(data)
        self._size += len(data)
        self.total_bytes += len(data)
        if self._waiter is not None:
            self._wake()
        if self._size > self._high_water and not self._paused:
            self._paused = True
            self._protocol.pause_reading()

    def begin_http_chunk_receiving(self) -> None:
        """The transfer decoder starts an HTTP chunk (``readchunk`` reports chunk ends)."""

    def end_http_chunk_receiving(self) -> None:
        """The transfer decoder finished an HTTP chunk: ``readchunk`` stops here."""
        ends = self._chunk_ends
        if (not ends or ends[-1] != self.total_bytes) and self.total_bytes:
            ends.append(self.total_bytes)
            self._wake()

    def _wake(self, exc: BaseException | None = None) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)

    # reading side --------------------------------------------------------------------------

    def is_eof(self) -> bool:
        return self._eof

    def at_eof(self) -> bool:
        return self._eof and not self._size

    async def wait_eof(self) -> None:
        if self._eof:
            return
        self._eof_waiter = asyncio.get_running_loop().create_future()
        await self._eof_waiter

    async def _wait(self) -> None:
        if self._exception is not None:
            raise self._exception
        if self._paused:
            self._paused = False
            self._protocol.resume_reading()
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def _take(self, n: int) -> bytes:
        """Remove and return up to ``n`` buffered bytes (``n < 0``: everything)."""
        buf = self._buffer
        first = buf[0]
        offset = self._offset
        if offset == 0 and (n < 0 or n >= len(first)) and len(buf) == 1:
            buf.popleft()
            data = first
        elif n < 0 or n >= self._size:
            if offset:
                buf[0] = first[offset:]
            data = b"".join(buf)
            buf.clear()
        else:
            parts = []
            need = n
            while need:
                first = buf[0]
                avail = len(first) - offset
                if avail <= need:
                    parts.append(first[offset:] if offset else first)
                    buf.popleft()
                    need -= avail
                    offset = 0
                else:
                    parts.append(first[offset : offset + need])
                    offset += need
                    need = 0
            self._offset = offset
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            self._consumed(len(data))
            return data
        self._offset = 0
        self._consumed(len(data))
        return data

    def _consumed(self, n: int) -> None:
        self._size -= n
        if self._paused and self._size < self._low_water:
            self._paused = False
            self._protocol.resume_reading()

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes; ``n < 0`` reads to EOF. Returns b"" at EOF."""
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b""
        if n < 0:
            while not self._eof:
                await self._wait()
            return self._take(-1) if self._size else b""
        while not self._size and not self._eof:
            await self._wait()
        return self._take(n) if self._size else b""

    async def readany(self) -> bytes:
        """Read whatever is buffered (waiting for at least one byte unless at EOF)."""
        if self._exception is not None:
            raise self._exception
        while not self._size and not self._eof:
            await self._wait()
        return self._take(-1) if self._size else b""

    async def readchunk(self) -> tuple[bytes, bool]:
        """Read what is buffered, up to the end of the current HTTP chunk.

        Returns ``(data, end_of_http_chunk)``: the flag is true when ``data`` ends exactly
        where a chunk of a chunked body ended; ``(b"", False)`` at EOF.
        """
        ends = self._chunk_ends
        while True:
            if self._exception is not None:
                raise self._exception
            position = self.total_bytes - self._size
            while ends and ends[0] <= position:
                ends.popleft()  # other read methods consumed past this chunk's end
            if ends and self._size:
                return self._take(ends.popleft() - position), True
            if self._size:
                return self._take(-1), False
            if self._eof:
                return b"", False
            await self._wait()

    async def readexactly(self, n: int) -> bytes:
        if self._exception is not None:
            raise self._exception
        while self._size < n:
            if self._eof:
                partial = self._take(-1) if self._size else b""
                raise asyncio.IncompleteReadError(partial, n)
            await self._wait()
        return self._take(n)

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        return await self.readuntil(b"\n", max_size=max_line_length)

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        """Read up to and including ``separator`` (or to EOF)."""
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        limit = max_size if max_size is not None else self._high_water
        while True:
            if self._exception is not None:
                raise self._exception
            if self._size:
                joined = self._peek_all()
                pos = joined.find(separator)
                if pos >= 0:
                    end = pos + len(separator)
                    if end > limit:
                        raise ValueError("Chunk too big")
                    return self._take(end)
                if self._size > limit:
                    raise ValueError("Chunk too big")
            if self._eof:
                return self._take(-1) if self._size else b""
            await self._wait()

    def _peek_all(self) -> bytes:
        buf = self._buffer
        if len(buf) > 1 or self._offset:
            joined = b"".join(buf)
            joined = joined[self._offset :]
            buf.clear()
            buf.append(joined)
            self._offset = 0
        return buf[0]

    def read_nowait(self, n: int = -1) -> bytes:
        if self._exception is not None:
            raise self._exception
        return self._take(n) if self._size else b""

    def unread_data(self, data: bytes) -> None:
        if not data:
            return
        if self._offset:
            self._buffer[0] = self._buffer[0][self._offset :]
            self._offset = 0
        self._buffer.appendleft(data)
        self._size += len(data)

    # iteration -----------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter(self.readline)

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        return self._iter(lambda: self.read(n))

    def iter_any(self) -> AsyncIterator[bytes]:
        return self._iter(self.readany)

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """``async for data, end_of_http_chunk in stream.iter_chunks()``."""
        while True:
            data, end = await self.readchunk()
            if not data and not end:
                return
            yield data, end

    @staticmethod
    async def _iter(read: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
        while True:
            data = await read()
            if not data:
                return
            yield data


class _EmptyStreamReader(StreamReader):
    """The body of a message that has none: always at EOF, shared."""

    def __init__(self) -> None:
        super().__init__()
        self._eof = True

    def feed_data(self, data: bytes, size: int = 0) -> None:
        raise RuntimeError("EMPTY_PAYLOAD is read-only")

    def __repr__(self) -> str:
        return "<EmptyStreamReader>"


EMPTY_PAYLOAD: StreamReader = _EmptyStreamReader()
