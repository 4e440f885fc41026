"""Request bodies: what ``data=``/``json=`` become on the wire.

A payload is either bytes held in memory (sent with the head in one write, replayable for
redirects and retries) or a stream of chunks (a file, an async iterable), sent once.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from multidict import MultiDict, MultiDictProxy

__all__ = ["FormData", "Payload", "make_payload"]

_FILE_CHUNK = 2**16


class Payload:
    """A request body: ``data`` in memory, or ``stream`` of chunks (``size`` if known)."""

    __slots__ = ("content_type", "data", "size", "stream")

    def __init__(
        self,
        data: bytes | None = None,
        *,
        stream: AsyncIterable[bytes] | None = None,
        size: int | None = None,
        content_type: str | None = None,
    ) -> None:
        self.data = data
        self.stream = stream
        self.size = len(data) if data is not None else size
        self.content_type = content_type

    @property
    def replayable(self) -> bool:
        return self.stream is None


EMPTY = Payload(b"")


async def _read_file(fobj: Any) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    while True:
        chunk = await loop.run_in_executor(None, fobj.read, _FILE_CHUNK)
        if not chunk:
            return
        yield chunk.encode("utf-8") if isinstance(chunk, str) else chunk


def _file_size(fobj: Any) -> int | None:
    try:
        return int(os.fstat(fobj.fileno()).st_size - fobj.tell())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _is_file(value: Any) -> bool:
    return isinstance(value, io.IOBase) or (hasattr(value, "read") and callable(value.read))


def _pairs(data: Any) -> list[tuple[str, Any]]:
    if isinstance(data, (MultiDict, MultiDictProxy)):
        return list(data.items())
    if isinstance(data, Mapping):
        return list(data.items())
    return [(str(k), v) for k, v in data]


def make_payload(data: Any, content_type: str | None = None) -> Payload:
    """Turn a ``data=`` argument into a :class:`Payload`."""
    if isinstance(data, Payload):
        return data
    if isinstance(data, FormData):
        return data.payload()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return Payload(bytes(data), content_type=content_type or "application/octet-stream")
    if isinstance(data, str):
        return Payload(
            data.encode("utf-8"), content_type=content_type or "text/plain; charset=utf-8"
        )
    as_body = getattr(data, "_as_body", None)  # surge.client.payloads / multipart objects
    if as_body is not None:
        return as_body(content_type)  # type: ignore[no-any-return]
    if _is_file(data):
        ctype = content_type
        if ctype is None:
            name = getattr(data, "name", None)
            guessed = mimetypes.guess_type(name)[0] if isinstance(name, str) else None
            ctype = guessed or "application/octet-stream"
        return Payload(stream=_read_file(data), size=_file_size(data), content_type=ctype)
    if isinstance(data, AsyncIterable):
        return Payload(stream=data, content_type=content_type or "application/octet-stream")
    if isinstance(data, (Mapping, list, tuple)):
        form = FormData(_pairs(data))
        payload = form.payload()
        if content_type is not None:
            payload.content_type = content_type
        return payload
    raise TypeError(f"Cannot send data of type {type(data).__name__!r} as a request body")


class FormData:
    """A form body: urlencoded, or multipart when it holds a file (or ``is_multipart``).

    ``form = FormData(); form.add_field("file", open("a.txt", "rb"), filename="a.txt")``
    """

    def __init__(
        self,
        fields: Iterable[Any] | Mapping[str, Any] = (),
        quote_fields: bool = True,
        charset: str | None = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        self._fields: list[tuple[str, Any, str | None, str | None]] = []
        self._is_multipart = default_to_multipart
        self._charset = charset
        self._quote_fields = quote_fields
        if isinstance(fields, Mapping):
            fields = list(fields.items())
        for item in fields:
            if isinstance(item, tuple) and len(item) == 2:
                self.add_field(str(item[0]), item[1])
            else:
                raise TypeError(f"Invalid form field {item!r}: expected (name, value) pairs")

    @property
    def is_multipart(self) -> bool:
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        if hasattr(value, "_as_body"):  # a surge.client.payloads payload: always multipart
            self._is_multipart = True
        elif _is_file(value) or isinstance(value, (bytes, bytearray)):
            self._is_multipart = True
            if filename is None and _is_file(value):
                raw = getattr(value, "name", None)
                filename = os.path.basename(raw) if isinstance(raw, str) else name
        elif not isinstance(value, (str, int, float)):
            raise TypeError(f"Form field {name!r} has an unsupported value type {type(value)}")
        if filename is not None or content_type is not None:
            self._is_multipart = True
        self._fields.append((name, value, content_type, filename))

    def add_fields(self, *fields: Any) -> None:
        for item in fields:
            if isinstance(item, Mapping):
                for k, v in item.items():
                    self.add_field(k, v)
            elif isinstance(item, tuple) and len(item) == 2:
                self.add_field(str(item[0]), item[1])
            else:
                raise TypeError(f"Invalid form field {item!r}")

    def payload(self) -> Payload:
        if not self._is_multipart:
            body = urlencode([(n, str(v)) for n, v, _, _ in self._fields], doseq=True)
            ctype = "application/x-www-form-urlencoded"
            if self._charset:
                ctype += f"; charset={self._charset}"
            return Payload(body.encode(self._charset or "utf-8"), content_type=ctype)
        from surge.client.multipart import form_writer  # imports this module

        return form_writer(self._fields, self._charset, self._quote_fields)._as_body(None)
