"""``streamer``: aiohttp's decorator turning ``async def f(writer, ...)`` into a request body.

The payload classes themselves are surge's client payloads (surge.client.payloads).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from surge.client.payloads import AsyncIterablePayload

__all__ = ["streamer"]


class _QueueWriter:
    def __init__(self, queue: asyncio.Queue[bytes | None]) -> None:
        self._queue = queue

    async def write(self, chunk: bytes) -> None:
        await self._queue.put(bytes(chunk))


async def _drive(
    coro: Callable[..., Awaitable[None]], args: Iterable[Any], kwargs: Any
) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=4)

    async def run() -> None:
        try:
            await coro(_QueueWriter(queue), *args, **kwargs)
        finally:
            await queue.put(None)

    task = asyncio.ensure_future(run())
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        await task  # re-raise what the writer coroutine raised
    finally:
        if not task.done():
            task.cancel()


class streamer:
    """``@streamer async def send(writer, name): await writer.write(b"...")``; then
    ``session.post(url, data=send("x"))`` streams what ``send`` writes."""

    def __init__(self, coro: Callable[..., Awaitable[None]]) -> None:
        self.coro = coro

    def __call__(self, *args: Any, **kwargs: Any) -> AsyncIterablePayload:
        return AsyncIterablePayload(_drive(self.coro, args, kwargs))
