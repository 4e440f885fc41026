"""aiohttp's payload classes: a request body (or a multipart part) with its own headers.

``BytesPayload``, ``StringPayload``, ``IOBasePayload`` (and its BytesIO, BufferedReader,
TextIO and StringIO kinds), ``JsonPayload`` and ``AsyncIterablePayload`` wrap a value, carry
``headers`` (Content-Type, Content-Disposition) and a ``size`` when one is known, and produce
their bytes as an async iterator of chunks (``_chunks``). ``get_payload`` picks the class for
a value. Invariants: in-memory payloads are replayable and leave in one piece; file and
async-iterable payloads are read once, in chunks, never whole into memory.
"""

from __future__ import annotations

import asyncio
import enum
import io
import json
import mimetypes
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from typing import IO, Any
from urllib.parse import quote

from multidict import CIMultiDict

from surge.client.payload import Payload as _Body

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
    "content_disposition_header",
    "get_payload",
    "payload_type",
]

_CHUNK = 2**16
_SENTINEL: Any = object()
# Characters that need a backslash inside a quoted parameter value of a non-filename field.
_NEEDS_ESCAPE = re.compile(r"([^\w!#$%&'*+.^`|~-])")


class LookupError(Exception):
    """No payload class is registered for the value's type."""


def content_disposition_header(
    disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
) -> str:
    """``Content-Disposition`` value: ``form-data; name="f"; filename="a.txt"``.

    With ``quote_fields`` a filename is percent-encoded inside its quotes (RFC 7578 4.2);
    one that needed encoding also gets the RFC 5987 form ``filename*=utf-8''...``, so a
    receiver that reads it (surge's, most frameworks') recovers the exact name, non-ASCII
    included. Without ``quote_fields`` values are sent as UTF-8 with ``"`` and ``\\`` escaped.
    """
    if not disptype or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    out = [disptype]
    for key, value in params.items():
        if not key or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", key):
            raise ValueError(f"bad content disposition parameter {key!r}={value!r}")
        value = str(value)
        if "\r" in value or "\n" in value:
            raise ValueError(f"content disposition parameter {key!r} holds CR or LF")
        if not quote_fields:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'{key}="{escaped}"')
        elif key == "filename":
            encoded = quote(value, safe="", encoding=_charset)
            out.append(f'{key}="{encoded}"')
            if encoded != value:
                out.append(f"{key}*={_charset}''{encoded}")
        else:
            escaped = _NEEDS_ESCAPE.sub(r"\\\1", value)
            out.append(f'{key}="{escaped}"')
    return "; ".join(out)


class Payload:
    """A body with headers: ``Payload(value, headers=..., content_type=..., filename=...)``.

    Subclasses say how the value becomes bytes (``_chunks``) and how big it is (``size``).
    """

    _default_content_type = "application/octet-stream"
    _size: int | None = None

    def __init__(
        self,
        value: Any,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        content_type: str | None = _SENTINEL,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self._encoding = encoding
        self._filename = filename
        self._headers: CIMultiDict[str] = CIMultiDict()
        if headers is not None:
            self._headers.extend(headers)
        if content_type is _SENTINEL:
            if "Content-Type" not in self._headers:
                guessed = mimetypes.guess_type(filename)[0] if filename else None
                self._headers["Content-Type"] = guessed or self._default_content_type
        elif content_type is not None:
            self._headers["Content-Type"] = content_type

    @property
    def size(self) -> int | None:
        """The body's length in bytes, or None when it is only known after sending."""
        return self._size

    @property
    def filename(self) -> str | None:
        return self._filename

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @property
    def content_type(self) -> str:
        return self._headers.get("Content-Type", self._default_content_type)

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: Any
    ) -> None:
        """Set ``Content-Disposition`` (see :func:`content_disposition_header`)."""
        self._headers["Content-Disposition"] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    def _in_memory(self) -> bytes | None:
        """The whole body when it is held in memory (sent in one piece, replayable)."""
        return None

    async def _chunks(self) -> AsyncIterator[bytes]:
        data = self._in_memory()
        if data is None:
            raise TypeError(f"{type(self).__name__} cannot produce its bytes")
        if data:
            yield data

    async def write(self, writer: Any) -> None:
        """Write the body to ``writer`` (anything with an async ``write(bytes)``)."""
        async for chunk in self._chunks():
            await writer.write(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body as bytes (reads a stream to its end)."""
        data = self._in_memory()
        if data is not None:
            return data
        return b"".join([chunk async for chunk in self._chunks()])

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        data = self._in_memory()
        if data is None:
            raise TypeError(f"{type(self).__name__} is a stream; use 'await as_bytes()'")
        return data.decode(self._encoding or encoding, errors)

    def _as_body(self, content_type: str | None = None) -> _Body:
        """The client's wire body for ``data=payload``."""
        ctype = content_type or self._headers.get("Content-Type")
        data = self._in_memory()
        if data is not None:
            return _Body(data, content_type=ctype)
        return _Body(stream=self._chunks(), size=self.size, content_type=ctype)


class BytesPayload(Payload):
    """``bytes``, ``bytearray`` or ``memoryview``, sent as they are."""

    def __init__(self, value: bytes | bytearray | memoryview, *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        super().__init__(bytes(value), *args, **kwargs)
        self._size = len(self._value)

    def _in_memory(self) -> bytes:
        return self._value  # type: ignore[no-any-return]


class StringPayload(BytesPayload):
    """A ``str`` encoded with its charset (``text/plain; charset=utf-8`` by default)."""

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


class JsonPayload(BytesPayload):
    """A value serialised by ``dumps`` (``json.dumps``) as ``application/json``."""

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
            dumps(value).encode(encoding),
            *args,
            content_type=content_type,
            encoding=encoding,
            **kwargs,
        )


class JsonBytesPayload(BytesPayload):
    """A value serialised by a ``dumps`` that returns bytes (orjson's)."""

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value), *args, content_type=content_type, **kwargs)


class IOBasePayload(Payload):
    """A file object, read in chunks off the event loop; ``Content-Disposition`` carries its
    name (``attachment; filename="report.pdf"``)."""

    def __init__(
        self, value: IO[Any], disposition: str = "attachment", *args: Any, **kwargs: Any
    ) -> None:
        if "filename" not in kwargs:
            name = getattr(value, "name", None)
            kwargs["filename"] = os.path.basename(name) if isinstance(name, str) else None
        super().__init__(value, *args, **kwargs)
        if (
            self._filename is not None
            and disposition is not None
            and "Content-Disposition" not in self._headers
        ):
            self.set_content_disposition(disposition, filename=self._filename)
        self._size = self._remaining()

    def _remaining(self) -> int | None:
        value = self._value
        try:
            return int(os.fstat(value.fileno()).st_size - value.tell())
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None

    def _encode(self, chunk: Any) -> bytes:
        return chunk if isinstance(chunk, bytes) else bytes(chunk)

    async def _chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        read = self._value.read
        try:
            while True:
                chunk = await loop.run_in_executor(None, read, _CHUNK)
                if not chunk:
                    return
                yield self._encode(chunk)
        finally:
            self._value.close()


class BufferedReaderPayload(IOBasePayload):
    """``open(path, "rb")``."""


class TextIOPayload(IOBasePayload):
    """``open(path)`` in text mode: chunks encoded with the file's (or given) encoding."""

    def __init__(
        self,
        value: IO[str],
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        encoding = encoding or getattr(value, "encoding", None) or "utf-8"
        if content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value, *args, encoding=encoding, content_type=content_type, **kwargs)
        self._size = None  # characters in the file are not bytes on the wire

    def _encode(self, chunk: Any) -> bytes:
        return chunk.encode(self._encoding or "utf-8") if isinstance(chunk, str) else chunk


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO``: its unread bytes, known in size."""

    def _remaining(self) -> int | None:
        value = self._value
        return int(len(value.getbuffer()) - value.tell())

    def _in_memory(self) -> bytes:
        value = self._value
        return value.getvalue()[value.tell() :]  # type: ignore[no-any-return]


class StringIOPayload(StringPayload):
    """An ``io.StringIO``: its unread text."""

    def __init__(self, value: IO[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class AsyncIterablePayload(Payload):
    """Chunks from an async iterable (an async generator, a stream): sent once, chunked."""

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(f"value argument must support __aiter__, not {type(value)!r}")
        super().__init__(value, *args, **kwargs)
        self._consumed = False

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("An AsyncIterablePayload can be sent only once")
        self._consumed = True
        async for chunk in self._value:
            if chunk:
                yield bytes(chunk)


def _charset_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


_PayloadClass = type["Payload"]


class Order(enum.StrEnum):
    """Where a registered payload class is tried: before, among, or after the others."""

    try_first = "try_first"
    normal = "normal"
    try_last = "try_last"


class PayloadRegistry:
    """Value type -> payload class; later registrations win over earlier ones of their order."""

    def __init__(self) -> None:
        self._entries: dict[Order, list[tuple[_PayloadClass, Any]]] = {o: [] for o in Order}

    def register(self, factory: _PayloadClass, kind: Any, *, order: str = Order.normal) -> None:
        self._entries[Order(order)].append((factory, kind))

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        if isinstance(data, Payload):
            return data
        entries = self._entries
        for found in (entries[Order.try_first], entries[Order.normal], entries[Order.try_last]):
            for factory, kind in reversed(found):
                if isinstance(data, kind):
                    payload: Payload = factory(data, *args, **kwargs)
                    return payload
        raise LookupError(f"No payload class for {type(data).__name__!r}")


PAYLOAD_REGISTRY = PayloadRegistry()
# Checked most specific first (the normal list is searched from its end).
for _factory, _kind in (
    (AsyncIterablePayload, AsyncIterable),
    (IOBasePayload, io.IOBase),
    (BufferedReaderPayload, io.BufferedReader | io.BufferedRandom),
    (TextIOPayload, io.TextIOBase),
    (StringIOPayload, io.StringIO),
    (BytesIOPayload, io.BytesIO),
    (StringPayload, str),
    (BytesPayload, bytes | bytearray | memoryview),
):
    PAYLOAD_REGISTRY.register(_factory, _kind)


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """The payload for ``data``: bytes, str, a file object, an async iterable..."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


class payload_type:
    """``@payload_type(MyType)``: register the decorated payload class for ``MyType`` values."""

    def __init__(self, type: Any, *, order: str = Order.normal) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: _PayloadClass) -> _PayloadClass:
        PAYLOAD_REGISTRY.register(factory, self.type, order=self.order)
        return factory
