"""MultipartWriter: a multipart body built from parts (aiohttp's API), streamed on send.

``session.post(url, data=writer)`` sends it: in one piece when every part is in memory, else
as a stream of chunks (files and async iterables are read as they are sent, never whole).
Invariants: the boundary never changes once parts exist; a ``form-data`` part always carries
a ``Content-Disposition`` (``name="section-N"`` when the caller gave none); part headers are
checked for CR/LF so a value cannot inject a header or a boundary.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from multidict import CIMultiDict

from surge.client.payloads import (
    JsonPayload,
    LookupError,
    Payload,
    StringPayload,
    get_payload,
)
from surge.http import zlib_backend

__all__ = ["MultipartWriter", "form_writer"]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTENT_ENCODINGS = {"gzip": 16 + zlib_backend.MAX_WBITS, "deflate": zlib_backend.MAX_WBITS}
_TRANSFER_ENCODINGS = frozenset({"base64", "quoted-printable", "binary", "7bit", "8bit"})

_Part = tuple[Payload, str | None, str | None]


class MultipartWriter(Payload):
    """A multipart body: ``with MultipartWriter("form-data") as mp: mp.append(...)``.

    ``append`` takes bytes, str, file objects, async iterables, payloads and nested writers;
    ``append_json`` and ``append_form`` serialise a value. A part's ``Content-Encoding``
    (gzip, deflate) and ``Content-Transfer-Encoding`` (base64, quoted-printable) headers are
    applied while sending.
    """

    _default_content_type = "multipart/mixed"

    def __init__(self, subtype: str = "mixed", boundary: str | None = None) -> None:
        value = boundary if boundary is not None else uuid.uuid4().hex
        try:
            self._boundary = value.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("boundary should contain ASCII only chars") from None
        if not 0 < len(value) <= 70 or "\r" in value or "\n" in value:
            raise ValueError("boundary must be 1 to 70 characters, without CR or LF")
        shown = value if _TOKEN.fullmatch(value) else '"{}"'.format(value.replace('"', '\\"'))
        super().__init__(None, content_type=f"multipart/{subtype}; boundary={shown}")
        self._subtype = subtype.lower()
        self._parts: list[_Part] = []

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Iterator[_Part]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    @property
    def boundary(self) -> str:
        return self._boundary.decode("ascii")

    # building --------------------------------------------------------------------------------

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add a part made from ``obj`` (any value :func:`get_payload` knows, or a payload)."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        try:
            payload = get_payload(obj, headers=headers)
        except LookupError:
            raise TypeError(f"Cannot create payload from {obj!r}") from None
        return self.append_payload(payload)

    def append_payload(self, payload: Payload) -> Payload:
        """Add ``payload`` as a part, with its headers."""
        headers = payload.headers
        encoding = headers.get("Content-Encoding", "").strip().lower() or None
        if encoding == "identity":
            encoding = None
        if encoding is not None and encoding not in _CONTENT_ENCODINGS:
            raise RuntimeError(f"unknown content encoding: {encoding}")
        transfer = headers.get("Content-Transfer-Encoding", "").strip().lower() or None
        if transfer is not None and transfer not in _TRANSFER_ENCODINGS:
            raise RuntimeError(f"unknown content transfer encoding: {transfer}")
        if transfer in ("binary", "7bit", "8bit"):
            transfer = None
        if self._subtype == "form-data" and "Content-Disposition" not in headers:
            payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"Part header {name!r} contains CR or LF")
        self._parts.append((payload, encoding, transfer))
        return payload

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add ``obj`` serialised as an ``application/json`` part."""
        return self.append_payload(JsonPayload(obj, headers=headers, dumps=json.dumps))

    def append_form(
        self,
        obj: Sequence[tuple[str, str]] | Mapping[str, str],
        headers: Mapping[str, str] | None = None,
    ) -> Payload:
        """Add ``obj`` urlencoded as an ``application/x-www-form-urlencoded`` part."""
        pairs = list(obj.items()) if isinstance(obj, Mapping) else list(obj)
        return self.append_payload(
            StringPayload(
                urlencode(pairs, doseq=True),
                headers=headers,
                content_type="application/x-www-form-urlencoded",
            )
        )

    # sending ---------------------------------------------------------------------------------

    def _part_head(self, payload: Payload) -> bytes:
        lines = [b"--", self._boundary, b"\r\n"]
        lines += [f"{name}: {value}\r\n".encode() for name, value in payload.headers.items()]
        lines.append(b"\r\n")
        return b"".join(lines)

    @property
    def size(self) -> int | None:
        """The body's length, or None when a part's is unknown or encoded while sending."""
        total = 0
        for payload, encoding, transfer in self._parts:
            part = payload.size
            if part is None or encoding is not None or transfer is not None:
                return None
            total += len(self._part_head(payload)) + part + 2
        return total + len(self._boundary) + 6

    def _in_memory(self) -> bytes | None:
        pieces = []
        for payload, encoding, transfer in self._parts:
            data = payload._in_memory()
            if data is None or encoding is not None or transfer is not None:
                return None
            pieces += [self._part_head(payload), data, b"\r\n"]
        pieces.append(b"--" + self._boundary + b"--\r\n")
        return b"".join(pieces)

    async def _chunks(self, close_boundary: bool = True) -> AsyncIterator[bytes]:
        for payload, encoding, transfer in self._parts:
            yield self._part_head(payload)
            chunks = payload._chunks()
            if encoding is not None:
                chunks = _compressed(chunks, _CONTENT_ENCODINGS[encoding])
            if transfer == "base64":
                chunks = _base64(chunks)
            elif transfer == "quoted-printable":
                chunks = _quoted_printable(chunks)
            async for chunk in chunks:
                yield chunk
            yield b"\r\n"
        if close_boundary:
            yield b"--" + self._boundary + b"--\r\n"

    async def write(self, writer: Any, close_boundary: bool = True) -> None:
        """Write the whole body to ``writer`` (anything with an async ``write(bytes)``)."""
        async for chunk in self._chunks(close_boundary):
            await writer.write(chunk)


async def _compressed(chunks: AsyncIterator[bytes], wbits: int) -> AsyncIterator[bytes]:
    compressor = zlib_backend.backend.compressobj(wbits=wbits)
    async for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


async def _base64(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    rest = b""
    async for chunk in chunks:
        data = rest + chunk
        cut = len(data) - len(data) % 3
        rest = data[cut:]
        if cut:
            yield base64.b64encode(data[:cut])
    if rest:
        yield base64.b64encode(rest)


async def _quoted_printable(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    # Whole lines are encoded together so a soft break never splits an escape sequence.
    rest = b""
    async for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield binascii.b2a_qp(data[:cut])
    if rest:
        yield binascii.b2a_qp(rest)


def form_writer(
    fields: Iterable[tuple[str, Any, str | None, str | None]],
    charset: str | None = None,
    quote_fields: bool = True,
) -> MultipartWriter:
    """The ``multipart/form-data`` body of a client ``FormData``'s fields.

    Each field is ``(name, value, content_type, filename)``; strings become text parts,
    bytes and file objects octet-stream parts (unless ``content_type`` says otherwise).
    """
    writer = MultipartWriter("form-data")
    for name, value, content_type, filename in fields:
        headers: CIMultiDict[str] = CIMultiDict()
        if isinstance(value, Payload):
            payload = value
            if content_type is not None:
                payload.headers["Content-Type"] = content_type
        elif isinstance(value, str | int | float) and not isinstance(value, bool | bytes):
            text = str(value)
            if content_type is not None:
                payload = StringPayload(text, content_type=content_type)
            else:
                encoding = charset or "utf-8"
                payload = StringPayload(
                    text, encoding=encoding, content_type=f"text/plain; charset={encoding}"
                )
        else:
            headers["Content-Type"] = content_type or "application/octet-stream"
            payload = get_payload(value, headers=headers, content_type=None)
        params = {"name": name}
        if filename is not None:
            params["filename"] = filename
        elif isinstance(value, Payload) and value.filename is not None:
            params["filename"] = value.filename
        payload.set_content_disposition(
            "form-data", quote_fields=quote_fields, _charset=charset or "utf-8", **params
        )
        writer.append_payload(payload)
    return writer
