"""Streaming multipart readers over an async byte source (a StreamReader or an enclosing part).

``MultipartReader`` yields one part at a time; ``BodyPartReader`` streams one part's body and
stops exactly at the next boundary, so memory stays bounded whatever the body's size. A part
whose type is ``multipart/*`` is returned as a nested ``MultipartReader`` reading from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import quopri
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy

from surge.http.content.codecs import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DecompressionError,
    make_decoder,
)
from surge.http.content.multipart import (
    BoundaryScanner,
    MultipartError,
    PartHeaderTooLong,
    TooManyPartHeaders,
    content_disposition_filename,
    decode_content,
    get_boundary,
    parse_content_disposition,
    parse_part_headers,
)
from surge.http.headers import parse_mimetype_params

__all__ = ["BodyPartReader", "MultipartError", "MultipartReader", "MultipartResponseWrapper"]

_MAX_PREAMBLE = 64 * 1024
_DECODE_STEP = 64 * 1024  # encoded bytes decompressed per step of decode_iter

SizeError = Callable[[int], BaseException]
"""``max_size_error_cls``: called with ``client_max_size`` when a part is read past it."""


class ByteSource(Protocol):
    """What the readers pull from: ``StreamReader`` and ``BodyPartReader`` both qualify."""

    async def read(self, n: int = -1) -> bytes: ...
    async def readline(self) -> bytes: ...
    def unread_data(self, data: bytes) -> None: ...


class BodyPartReader:
    """One part of a multipart body: its ``headers`` and a stream of its bytes.

    ``await part.read()`` (whole body), ``read_chunk(size)``, ``readline()``, ``text()``,
    ``json()``, ``form()``; ``name`` and ``filename`` come from Content-Disposition.
    """

    chunk_size = 8192

    def __init__(
        self,
        boundary: bytes,
        headers: Mapping[str, str],
        content: ByteSource,
        *,
        subtype: str = "mixed",
        default_charset: str | None = None,
        max_decompress_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        client_max_size: int = sys.maxsize,
        max_size_error_cls: SizeError = ValueError,
    ) -> None:
        self._max_decompress_size = max_decompress_size
        self._client_max_size = client_max_size
        self._max_size_error_cls = max_size_error_cls
        self.headers: CIMultiDictProxy[str] = (
            headers
            if isinstance(headers, CIMultiDictProxy)
            else CIMultiDictProxy(CIMultiDict(headers))
        )
        self._boundary = boundary
        self._content = content
        self._scanner = BoundaryScanner(boundary)
        self._subtype = subtype
        self._default_charset = default_charset
        self._at_eof = False
        self._pushback = b""
        self._received = 0
        declared = self.headers.get("Content-Length")
        self._declared = int(declared) if declared is not None and declared.isdigit() else None
        disposition = parse_content_disposition(self.headers.get("Content-Disposition"))
        self._disposition = disposition[1]

    def __repr__(self) -> str:
        return f"<BodyPartReader name={self.name!r} filename={self.filename!r}>"

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[bytes]:
        while True:
            data = await self.next()
            if data is None:
                return
            yield data

    @property
    def name(self) -> str | None:
        """The ``name`` parameter of Content-Disposition (the form field name)."""
        return content_disposition_filename(self._disposition, "name")

    @property
    def filename(self) -> str | None:
        """The ``filename`` parameter of Content-Disposition (``filename*`` preferred)."""
        return content_disposition_filename(self._disposition, "filename")

    def at_eof(self) -> bool:
        return self._at_eof and not self._pushback

    async def next(self) -> bytes | None:
        """The whole body, or ``None`` once it was read."""
        if self.at_eof():
            return None
        return await self.read()

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Up to ``size`` bytes of the body; ``b""`` at its end."""
        if self._pushback:
            data, self._pushback = self._pushback[:size], self._pushback[size:]
            return data
        if self._at_eof:
            return b""
        while True:
            data = await self._content.read(size)
            if not data:
                raise MultipartError("multipart body ended inside a part")
            body, done, rest = self._scanner.feed(data)
            self._received += len(body)
            if done:
                if rest:
                    self._content.unread_data(rest)
                self._at_eof = True
                if self._declared is not None and self._declared != self._received:
                    raise MultipartError(
                        f"part Content-Length {self._declared} but {self._received} bytes sent"
                    )
                return body
            if body:
                return body

    # ByteSource, so a nested multipart can read from this part.
    async def read(self, n: int = -1, *, decode: bool = False) -> bytes:
        """The whole (rest of the) body, or up to ``n`` bytes; ``decode`` undoes encodings.

        A whole body larger than ``client_max_size`` raises ``max_size_error_cls(limit)``.
        """
        if n >= 0:
            return await self.read_chunk(n)
        parts = []
        size = 0
        limit = self._client_max_size
        while chunk := await self.read_chunk(max(self.chunk_size, 65536)):
            size += len(chunk)
            if size > limit:
                raise self._max_size_error_cls(limit)
            parts.append(chunk)
        data = b"".join(parts)
        return self.decode(data) if decode else data

    async def readline(self) -> bytes:
        """One line of the body, with its ``\\n``; ``b""`` at the end."""
        buf = b""
        while True:
            pos = buf.find(b"\n")
            if pos >= 0:
                self.unread_data(buf[pos + 1 :])
                return buf[: pos + 1]
            chunk = await self.read_chunk(self.chunk_size)
            if not chunk:
                return buf
            buf += chunk
            if len(buf) > 2**20:
                raise MultipartError("line too long in a multipart part")

    def unread_data(self, data: bytes) -> None:
        if data:
            self._pushback = data + self._pushback

    async def release(self) -> None:
        """Read and discard the rest of the body."""
        self._pushback = b""
        while await self.read_chunk(65536):
            pass

    def decode(self, data: bytes) -> bytes:
        """Undo Content-Transfer-Encoding and Content-Encoding (at most
        ``max_decompress_size`` bytes decoded)."""
        headers = self.headers
        return decode_content(
            data,
            headers.get("Content-Transfer-Encoding"),
            headers.get("Content-Encoding"),
            self._max_decompress_size,
        )

    async def decode_iter(self, data: bytes) -> AsyncIterator[bytes]:
        """:meth:`decode` as a stream of decoded chunks: a large compressed part is inflated
        a step at a time (yielding to the event loop between steps), never whole at once."""
        headers = self.headers
        cte = (headers.get("Content-Transfer-Encoding") or "").strip().lower()
        if cte == "base64":
            try:
                data = base64.b64decode(data)
            except binascii.Error as exc:
                raise MultipartError(f"invalid base64 part: {exc}") from None
        elif cte == "quoted-printable":
            data = quopri.decodestring(data)
        elif cte not in ("", "binary", "8bit", "7bit"):
            raise MultipartError(f"unknown Content-Transfer-Encoding {cte!r}")
        ce = (headers.get("Content-Encoding") or "").strip().lower()
        if ce in ("", "identity"):
            if data:
                yield data
            return
        decoder = make_decoder(ce, self._max_decompress_size)
        if decoder is None:
            raise MultipartError(f"unknown Content-Encoding {ce!r}")
        view = memoryview(data)
        try:
            for start in range(0, len(view), _DECODE_STEP):
                out = decoder.decompress(bytes(view[start : start + _DECODE_STEP]))
                if out:
                    yield out
            tail = decoder.flush()
        except DecompressionError as exc:
            raise MultipartError(f"invalid {ce} part: {exc}") from None
        if tail:
            yield tail

    def get_charset(self, default: str) -> str:
        params = parse_mimetype_params(self.headers.get("Content-Type", ""))[1]
        return params.get("charset") or self._default_charset or default

    async def text(self, *, encoding: str | None = None) -> str:
        data = await self.read(decode=True)
        return data.decode(encoding or self.get_charset("utf-8"))

    async def json(self, *, encoding: str | None = None) -> Any:
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset("utf-8")))

    async def form(self, *, encoding: str | None = None) -> list[tuple[str, str]]:
        data = await self.read(decode=True)
        if not data:
            return []
        charset = encoding or self.get_charset("utf-8")
        return parse_qsl(data.decode(charset), keep_blank_values=True, encoding=charset)


class MultipartReader:
    """Parts of a ``multipart/*`` body, one at a time: ``async for part in reader``.

    Each part must be read or released before the next; ``next()`` releases it for you.
    """

    part_reader_cls = BodyPartReader
    multipart_reader_cls: type[MultipartReader] | None = None
    """The class of nested readers (``multipart/*`` parts); None: this reader's class."""
    response_wrapper_cls: type[MultipartResponseWrapper]

    def __init__(
        self,
        headers: Mapping[str, str],
        content: ByteSource,
        *,
        client_max_size: int = sys.maxsize,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_size_error_cls: SizeError = ValueError,
    ) -> None:
        """``max_field_size`` bounds one part header line (:class:`PartHeaderTooLong`, an
        aiohttp ``LineTooLong``), ``max_headers`` their number per part
        (:class:`TooManyPartHeaders`, a ``BadHttpMessage``); ``client_max_size`` one part
        read whole (``max_size_error_cls(client_max_size)``)."""
        self._client_max_size = client_max_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_size_error_cls = max_size_error_cls
        self.headers = headers
        self._boundary = get_boundary(headers.get("Content-Type", ""))
        self._subtype = parse_mimetype_params(headers["Content-Type"])[0].partition("/")[2]
        self._content = content
        self._last_part: BodyPartReader | MultipartReader | None = None
        self._at_bof = True
        self._at_eof = False

    def __repr__(self) -> str:
        return f"<MultipartReader {self._subtype} boundary={self._boundary!r}>"

    @classmethod
    def from_response(cls, response: Any) -> MultipartResponseWrapper:
        """A reader over a client response's multipart body, wrapped so that finishing
        (or releasing) it releases the response."""
        return cls.response_wrapper_cls(response, cls(response.headers, response.content))

    def __aiter__(self) -> AsyncIterator[BodyPartReader | MultipartReader]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[BodyPartReader | MultipartReader]:
        while True:
            part = await self.next()
            if part is None:
                return
            yield part

    def at_eof(self) -> bool:
        return self._at_eof

    async def next(self) -> BodyPartReader | MultipartReader | None:
        """The next part (a nested reader for ``multipart/*`` parts), or ``None`` at the end."""
        if self._at_eof:
            return None
        last = self._last_part
        if last is not None:
            self._last_part = None
            await last.release()
        if self._at_bof:
            self._at_bof = False
            await self._read_first_boundary()
        else:
            await self._read_boundary_tail()
        if self._at_eof:
            return None
        headers = await self._read_headers()
        part = self.part_reader_cls(
            self._boundary,
            headers,
            self._content,
            subtype=self._subtype,
            client_max_size=self._client_max_size,
            max_size_error_cls=self._max_size_error_cls,
        )
        ctype = headers.get("Content-Type", "")
        result: BodyPartReader | MultipartReader = part
        if ctype and parse_mimetype_params(ctype)[0].startswith("multipart/"):
            nested = self.multipart_reader_cls or type(self)
            result = nested(
                headers,
                part,
                client_max_size=self._client_max_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                max_size_error_cls=self._max_size_error_cls,
            )
        self._last_part = result
        return result

    fetch_next_part = next

    async def release(self) -> None:
        """Skip every remaining part."""
        while not self._at_eof:
            part = await self.next()
            if part is None:
                break
        if isinstance(self._content, BodyPartReader):
            await self._content.release()

    async def _read_first_boundary(self) -> None:
        start = b"--" + self._boundary
        seen = 0
        while True:
            line = await self._content.readline()
            if not line:
                raise MultipartError(f"no boundary {self._boundary!r} in the multipart body")
            seen += len(line)
            stripped = line.rstrip(b"\r\n").rstrip(b" \t")
            if stripped == start:
                return
            if stripped == start + b"--":
                self._at_eof = True
                return
            if seen > _MAX_PREAMBLE:
                raise MultipartError("multipart preamble too long")

    async def _read_boundary_tail(self) -> None:
        # The part before consumed ``CRLF--boundary``; what follows says more parts or the end.
        line = await self._content.readline()
        stripped = line.rstrip(b"\r\n").rstrip(b" \t")
        if stripped == b"--":
            self._at_eof = True
        elif stripped or not line.endswith(b"\n"):
            raise MultipartError(f"invalid multipart boundary line {line[:60]!r}")

    async def _read_headers(self) -> CIMultiDict[str]:
        lines: list[bytes] = []
        max_field = self._max_field_size
        while True:
            try:
                line = await self._content.readline()
            except ValueError as exc:  # the stream's own bound on a line
                if isinstance(exc, MultipartError):
                    raise
                raise PartHeaderTooLong(
                    f"a part header line is longer than {max_field} bytes"
                ) from None
            if not line:
                raise MultipartError("multipart body ended inside a part's headers")
            line = line.rstrip(b"\r\n")
            if not line:
                return parse_part_headers(lines)
            if len(line) > max_field:
                raise PartHeaderTooLong(
                    f"Got more than {max_field} bytes when reading a part header: {line[:60]!r}..."
                )
            if len(lines) >= self._max_headers:
                raise TooManyPartHeaders("Too many headers received")
            lines.append(line)


class MultipartResponseWrapper:
    """A :class:`MultipartReader` over a client response (``MultipartReader.from_response``):
    reading past the last part, or :meth:`release`, releases the response."""

    def __init__(self, resp: Any, stream: MultipartReader) -> None:
        self.resp = resp
        self.stream = stream

    def __aiter__(self) -> AsyncIterator[BodyPartReader | MultipartReader]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[BodyPartReader | MultipartReader]:
        while True:
            part = await self.next()
            if part is None:
                return
            yield part

    def at_eof(self) -> bool:
        """Whether the whole response body has been read."""
        return bool(self.resp.content.at_eof())

    async def next(self) -> BodyPartReader | MultipartReader | None:
        """The next part; at the end, the response is released and None returned."""
        item = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return item

    async def release(self) -> None:
        """Read the rest of the body to the void and release the response (its connection
        goes back to the pool)."""
        content = self.resp.content
        while await content.readany():
            pass
        await self.resp.release()


MultipartReader.response_wrapper_cls = MultipartResponseWrapper
