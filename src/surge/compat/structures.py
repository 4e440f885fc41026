"""Small aiohttp data structures with no other home in surge: ``ChainMapProxy``, ``ETag``,
``DataQueue`` and ``FlowControlDataQueue``."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from surge.net.streams import EofStream

__all__ = ["ChainMapProxy", "DataQueue", "ETag", "FlowControlDataQueue"]

_T = TypeVar("_T")


class ChainMapProxy(Mapping[Any, Any]):
    """A read-only view over several mappings, first match wins (``request.config_dict``)."""

    __slots__ = ("_maps",)

    def __init__(self, maps: Iterable[Mapping[Any, Any]]) -> None:
        self._maps = tuple(maps)

    def __init_subclass__(cls) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from ChainMapProxy is forbidden")

    def __getitem__(self, key: Any) -> Any:
        for mapping in self._maps:
            try:
                return mapping[key]
            except KeyError:
                pass
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __len__(self) -> int:
        return len(set().union(*self._maps))

    def __iter__(self) -> Iterator[Any]:
        seen: dict[Any, None] = {}
        for mapping in reversed(self._maps):
            seen.update(dict.fromkeys(mapping))
        return iter(seen)

    def __contains__(self, key: object) -> bool:
        return any(key in m for m in self._maps)

    def __bool__(self) -> bool:
        return any(self._maps)

    def __repr__(self) -> str:
        return f"ChainMapProxy({', '.join(map(repr, self._maps))})"


@dataclasses.dataclass(frozen=True)
class ETag:
    """An entity tag: ``ETag("abc", is_weak=True)`` is ``W/"abc"`` on the wire."""

    value: str
    is_weak: bool = False


class DataQueue(Generic[_T]):
    """An asyncio queue of parsed items with an end and an error: ``read()`` raises
    :class:`EofStream` once fed items are exhausted after ``feed_eof()``."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        self._eof = False
        self._buffer: collections.deque[tuple[_T, int]] = collections.deque()

    def __len__(self) -> int:
        return len(self._buffer)

    def is_eof(self) -> bool:
        return self._eof

    def at_eof(self) -> bool:
        return self._eof and not self._buffer

    def exception(self) -> BaseException | None:
        return self._exception

    def set_exception(self, exc: BaseException, exc_cause: BaseException | None = None) -> None:
        self._eof = True
        self._exception = exc
        if exc_cause is not None:
            exc.__cause__ = exc_cause
        self._wake(exc)

    def feed_data(self, data: _T, size: int = 0) -> None:
        self._buffer.append((data, size))
        self._wake()

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()

    def _wake(self, exc: BaseException | None = None) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    async def read(self) -> _T:
        if not self._buffer and not self._eof:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            except (asyncio.CancelledError, TimeoutError):
                self._waiter = None
                raise
        if self._buffer:
            data, size = self._buffer.popleft()
            self._on_read(size)
            return data
        if self._exception is not None:
            raise self._exception
        raise EofStream

    def _on_read(self, size: int) -> None:
        pass

    def __aiter__(self) -> DataQueue[_T]:
        return self

    async def __anext__(self) -> _T:
        try:
            return await self.read()
        except EofStream:
            raise StopAsyncIteration from None


class FlowControlDataQueue(DataQueue[_T]):
    """A :class:`DataQueue` that pauses ``protocol`` reading while more than ``limit`` bytes
    (the ``size`` given to ``feed_data``) wait unread."""

    def __init__(
        self, protocol: Any, limit: int, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        super().__init__(loop)
        self._protocol = protocol
        self._limit = limit * 2
        self._size = 0

    def feed_data(self, data: _T, size: int = 0) -> None:
        super().feed_data(data, size)
        self._size += size
        if self._size > self._limit and not getattr(self._protocol, "_reading_paused", False):
            self._protocol.pause_reading()

    def _on_read(self, size: int) -> None:
        self._size -= size
        if self._size < self._limit and getattr(self._protocol, "_reading_paused", True):
            self._protocol.resume_reading()
