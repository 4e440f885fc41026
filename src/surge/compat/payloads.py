"""aiohttp's payload classes (``aiohttp.payload``) as surge request bodies.

Each class is a :class:`surge.client.payload.Payload`, so ``session.post(url, data=JsonPayload(x))``
sends it like any other body. ``get_payload`` picks a class by the value's type through
``PAYLOAD_REGISTRY``; ``payload_type`` registers more. ``streamer`` is aiohttp's legacy decorator
turning ``async def f(writer, ...)`` into a streamed body.
"""

from __future__ import annotations

import asyncio
import enum
import io
import json
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import quote

from multidict import CIMultiDict

from surge.client.payload import Payload as _SurgePayload

__all__ = [
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonBytesPayload",
    "JsonPayload",
    "LookupError",
    "Order",
    "Payload",
    "PayloadRegistry",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "get_payload",
    "payload_type",
    "streamer",
]

_CHUNK = 2**16


class LookupError(Exception):
    """No payload class is registered for the value's type."""


class Order(enum.StrEnum):
    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


class Payload(_SurgePayload):
    """A request body with aiohttp's payload interface (headers, filename, ``write``, ...)."""

    def __init__(
        self,
        value: Any,
        headers: Any = None,
        content_type: str | None = None,
        filename: str | None = None,
        encoding: str | None = None,
        *,
        data: bytes | None = None,
        stream: AsyncIterable[bytes] | None = None,
        size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._consumed = False
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})
        if content_type is None:
            content_type = self.headers.get("Content-Type")
        if content_type is None and filename is not None:
            content_type = mimetypes.guess_type(filename)[0]
        content_type = content_type or "application/octet-stream"
        self.headers["Content-Type"] = content_type
        super().__init__(data, stream=stream, size=size, content_type=content_type)

    @property
    def value(self) -> Any:
        return self._value

    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @property
    def consumed(self) -> bool:
        return self._consumed

    @property
    def autoclose(self) -> bool:
        return self.stream is None

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
    ) -> None:
        parts = [disptype]
        for key, val in params.items():
            parts.append(
                f'{key}="{quote(val, safe="", encoding=_charset) if quote_fields else val}"'
            )
        self.headers["Content-Disposition"] = "; ".join(parts)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        if self.data is None:
            raise TypeError(f"{type(self).__name__} streams its body; it cannot be decoded")
        return self.data.decode(self._encoding or encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if self.data is not None:
            return self.data
        return b"".join([chunk async for chunk in self._chunks()])

    async def write(self, writer: Any) -> None:
        """Write the body to ``writer`` (anything with ``await writer.write(bytes)``)."""
        async for chunk in self._chunks():
            await writer.write(chunk)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        remaining = content_length
        async for chunk in self._chunks():
            if remaining is not None:
                chunk = chunk[:remaining]
                remaining -= len(chunk)
            await writer.write(chunk)
            if remaining == 0:
                break

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self.data is not None:
            yield self.data
            return
        if self._consumed:
            raise RuntimeError(f"{type(self).__name__} was already sent; a stream is sent once")
        self._consumed = True
        assert self.stream is not None
        async for chunk in self.stream:
            yield chunk

    async def close(self) -> None:
        closer = getattr(self._value, "close", None)
        if self.stream is not None and callable(closer):
            closer()


class BytesPayload(Payload):
    def __init__(self, value: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, data=bytes(value), **kwargs)


class StringPayload(BytesPayload):
    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None and content_type is None:
            encoding, content_type = "utf-8", "text/plain; charset=utf-8"
        elif encoding is None:
            assert content_type is not None
            encoding = _charset_of(content_type) or "utf-8"
        elif content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(
            value.encode(encoding), *args, encoding=encoding, content_type=content_type, **kwargs
        )


class StringIOPayload(StringPayload):
    def __init__(self, value: io.StringIO | Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class JsonPayload(BytesPayload):
    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dumps(value).encode(encoding), content_type=content_type, encoding=encoding, **kwargs
        )


class JsonBytesPayload(BytesPayload):
    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value), content_type=content_type, **kwargs)


async def _read_file(fobj: Any, encoding: str | None) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    while chunk := await loop.run_in_executor(None, fobj.read, _CHUNK):
        yield chunk.encode(encoding or "utf-8") if isinstance(chunk, str) else bytes(chunk)


def _remaining_size(fobj: Any) -> int | None:
    try:
        return int(os.fstat(fobj.fileno()).st_size - fobj.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


class IOBasePayload(Payload):
    """A file object, read in chunks off the event loop and sent once."""

    def __init__(self, value: Any, disposition: str = "attachment", *args: Any, **kw: Any) -> None:
        if "filename" not in kw:
            name = getattr(value, "name", None)
            kw["filename"] = os.path.basename(name) if isinstance(name, str) else None
        size = kw.pop("size", None)
        if size is None:
            size = _remaining_size(value)
        super().__init__(
            value, *args, stream=_read_file(value, kw.get("encoding")), size=size, **kw
        )
        if self.filename is not None and disposition is not None:
            self.set_content_disposition(disposition, filename=self.filename)


class TextIOPayload(IOBasePayload):
    def __init__(
        self,
        value: Any,
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        encoding = encoding or "utf-8"
        content_type = content_type or f"text/plain; charset={encoding}"
        # The byte length of text is unknown until it is encoded: send it chunked.
        super().__init__(
            value, *args, encoding=encoding, content_type=content_type, size=-1, **kwargs
        )
        self.size = None


class BytesIOPayload(IOBasePayload):
    pass


class BufferedReaderPayload(IOBasePayload):
    pass


class AsyncIterablePayload(Payload):
    """An async iterable of bytes, sent chunked, once."""

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                f"value argument must support the async iteration protocol, not {type(value)!r}"
            )
        super().__init__(value, *args, stream=value, **kwargs)


def _charset_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset":
            return val.strip('"') or None
    return None


class PayloadRegistry:
    """Maps value types to payload factories, tried in ``try_first``/normal/``try_last`` order."""

    def __init__(self) -> None:
        self._entries: dict[Order, list[tuple[Callable[..., Payload], Any]]] = {
            o: [] for o in Order
        }

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        if isinstance(data, Payload):
            return data
        for order in (Order.try_first, Order.normal, Order.try_last):
            for factory, type_ in self._entries[order]:
                if isinstance(data, type_):
                    return factory(data, *args, **kwargs)
        raise LookupError(f"no payload class for {type(data).__name__!r}")

    def register(
        self, factory: Callable[..., Payload], type: Any, *, order: Order = Order.normal
    ) -> None:
        self._entries[Order(order)].append((factory, type))


PAYLOAD_REGISTRY = PayloadRegistry()


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """The payload for ``data``: ``get_payload(b"x")`` is a :class:`BytesPayload`."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


class payload_type:
    """Class decorator registering a payload class for values of ``type``."""

    def __init__(self, type: Any, *, order: Order = Order.normal) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: type[Payload]) -> type[Payload]:
        PAYLOAD_REGISTRY.register(factory, self.type, order=self.order)
        return factory


PAYLOAD_REGISTRY.register(BytesPayload, (bytes, bytearray, memoryview))
PAYLOAD_REGISTRY.register(StringPayload, str)
PAYLOAD_REGISTRY.register(StringIOPayload, io.StringIO)
PAYLOAD_REGISTRY.register(TextIOPayload, io.TextIOBase)
PAYLOAD_REGISTRY.register(BytesIOPayload, io.BytesIO)
PAYLOAD_REGISTRY.register(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
PAYLOAD_REGISTRY.register(IOBasePayload, io.IOBase)
PAYLOAD_REGISTRY.register(AsyncIterablePayload, AsyncIterable, order=Order.try_last)


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
