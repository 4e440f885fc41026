"""FileResponse: a file from disk with validators, conditional requests, ranges and sendfile.

Invariants: only regular files are sent (a FIFO or device is never opened for reading: the
descriptor is opened non-blocking and checked with ``fstat``); the descriptor is closed in a
``finally`` whatever happens to the connection; a precompressed sibling (``.br``, ``.zst``,
``.gz``) replaces the file only when the client accepts its coding; with
``enable_compression()`` and no fitting sibling the file is compressed on the fly (no
sendfile, no ranges, an ETag of its own).

Per request cost matters for small files: the request's conditional headers are found in one
pass over the raw header pairs, a file up to ``_INLINE_LIMIT`` is read with one ``pread`` and
leaves with its head in one write, and only pure functions of their key (date formatting,
type guessing) are cached, so nothing can go stale.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import secrets
import stat
from collections.abc import Iterable
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multidict import istr

from surge.http.conditional import (
    ETag,
    RangeNotSatisfiable,
    etag_matches,
    evaluate_preconditions,
    parse_byte_ranges,
    parse_etag,
    parse_etag_list,
)
from surge.http.content.compression import (
    Compressor,
    available_codings,
    choose_coding,
    make_compressor,
)
from surge.net.sendfile import send_file_range
from surge.server.response import ContentCoding, LooseHeaders, StreamResponse, _add_vary

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["FileResponse"]

_CONTENT_TYPE = istr("Content-Type")
_CONTENT_LENGTH = istr("Content-Length")
_CONTENT_ENCODING = istr("Content-Encoding")
_ETAG = istr("ETag")
_LAST_MODIFIED = istr("Last-Modified")
_ACCEPT_RANGES = istr("Accept-Ranges")
_VARY = istr("Vary")
# Files up to this size leave with the head in one write, read inline from the page cache.
_INLINE_LIMIT = 64 * 1024
_SIBLINGS = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}
_SIBLING_CODINGS = tuple(c for c in available_codings() if c in _SIBLINGS)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_ENCODED_TYPES = {"gzip": "application/gzip", "br": "application/x-brotli"}

# The request headers FileResponse looks at; list-valued ones are joined when repeated.
_FIELDS = frozenset(
    {
        b"accept-encoding",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"range",
        b"if-range",
    }
)
_LIST_FIELDS = frozenset({b"accept-encoding", b"if-match", b"if-none-match"})
_CACHE_SIZE = 1024
_DATES: dict[int, str] = {}
_TYPES: dict[str, tuple[str | None, str | None]] = {}


class _NotRegular(OSError):
    pass


def _open_regular(path: str) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading only if it is a regular file (never blocks on a FIFO)."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _NotRegular(path)
        return fd, st
    except BaseException:
        os.close(fd)
        raise


def _request_fields(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The conditional, range and coding headers of a request, by lower-case name."""
    found: dict[bytes, str] = {}
    for name, value in raw:
        lname = name.lower()
        if lname in _FIELDS:
            text = value.decode("utf-8", "surrogateescape")
            old = found.get(lname)
            if old is None:
                found[lname] = text
            elif lname in _LIST_FIELDS:
                found[lname] = f"{old}, {text}"
    return found


def _http_date(seconds: float) -> str:
    key = int(seconds)
    value = _DATES.get(key)
    if value is None:
        if len(_DATES) >= _CACHE_SIZE:
            _DATES.clear()
        value = _DATES[key] = formatdate(key, usegmt=True)
    return value


def _guess_type(name: str) -> tuple[str | None, str | None]:
    guessed = _TYPES.get(name)
    if guessed is None:
        if len(_TYPES) >= _CACHE_SIZE:
            _TYPES.clear()
        guessed = _TYPES[name] = mimetypes.guess_type(name)
    return guessed


def _http_date_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class FileResponse(StreamResponse):
    """Send a file: ``return web.FileResponse('report.pdf')``.

    Sets Content-Type (from the name), Last-Modified, ETag and Accept-Ranges; answers
    conditional requests (304/412) and ranges (206, multipart/byteranges, 416); uses the
    kernel's sendfile on plain TCP. A missing file answers 404, an unreadable one 403.
    After ``enable_compression()`` the file is compressed on the fly unless a precompressed
    sibling (``x.js.br``, ``.zst``, ``.gz``) the client accepts exists.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        chunk_size: int = 256 * 1024,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._file_path = os.fspath(path)
        self._chunk_size = chunk_size

    @property
    def _path(self) -> Path:
        return Path(self._file_path)

    def _compress(self, request: BaseRequest, body: bytes | None) -> bytes | None:
        # File bodies are compressed by _send_compressed (or come from a sibling), not here.
        return body

    def _open(self, accept: str | None) -> tuple[int, os.stat_result, str | None]:
        """The file to send: a precompressed sibling when accepted, else the file itself."""
        path = self._file_path
        if accept and _SIBLING_CODINGS and _CONTENT_ENCODING not in self._headers:
            offered = _SIBLING_CODINGS
            while offered:
                coding = choose_coding(accept, offered)
                if coding is None:
                    break
                try:
                    fd, st = _open_regular(path + _SIBLINGS[coding])
                except OSError:
                    offered = tuple(c for c in offered if c != coding)
                    continue
                return fd, st, coding
        fd, st = _open_regular(path)
        return fd, st, None

    def _fly_coding(self, accept: str | None) -> str | None:
        """The coding to compress into on the fly, after ``enable_compression()``."""
        if not self._compression or _CONTENT_ENCODING in self._headers:
            return None
        force = self._compression_force
        if force is None:
            _add_vary(self._headers)
            return choose_coding(accept)
        if force is ContentCoding.identity:
            return None
        return str(force.value)

    async def prepare(self, request: BaseRequest) -> Any:
        if self._eof_sent:
            return None
        if self._writer is not None:
            return self._writer
        fields = _request_fields(request._head.headers)
        accept = fields.get(b"accept-encoding")
        try:
            fd, st, coding = self._open(accept)
        except (FileNotFoundError, NotADirectoryError, _NotRegular, IsADirectoryError):
            return await self._send_empty(request, 404 if self._status == 200 else self._status)
        except PermissionError:
            return await self._send_empty(request, 403)
        try:
            fly = self._fly_coding(accept) if coding is None and self._compression else None
            return await self._send_file(request, fd, st, coding, fly, fields)
        finally:
            os.close(fd)

    async def _send_empty(self, request: BaseRequest, status: int) -> Any:
        self.set_status(status)
        self._headers[_CONTENT_LENGTH] = "0"
        writer = await StreamResponse.prepare(self, request)
        await self.write_eof()
        return writer

    async def _send_file(
        self,
        request: BaseRequest,
        fd: int,
        st: os.stat_result,
        coding: str | None,
        fly: str | None,
        fields: dict[bytes, str],
    ) -> Any:
        headers = self._headers
        size = st.st_size
        etag = ETag(
            value=f"{st.st_mtime_ns:x}-{size:x}-{fly}" if fly else f"{st.st_mtime_ns:x}-{size:x}"
        )
        headers[_ETAG] = f'"{etag.value}"'
        headers[_LAST_MODIFIED] = _http_date(st.st_mtime)
        if fly is None:
            headers[_ACCEPT_RANGES] = "bytes"
        if _CONTENT_TYPE not in headers:
            ctype, encoding = _guess_type(os.path.basename(self._file_path))
            if ctype is None or (encoding is not None and coding is None):
                # a plain "x.gz" is an archive to download, not text in gzip clothing
                ctype = _ENCODED_TYPES.get(encoding or "", "application/octet-stream")
            headers[_CONTENT_TYPE] = ctype
        if coding is not None:
            headers[_CONTENT_ENCODING] = coding
        if _SIBLING_CODINGS and _VARY not in headers:
            headers[_VARY] = "Accept-Encoding"

        ranges: list[tuple[int, int]] | None = None
        if fields and self._status == 200:
            verdict = evaluate_preconditions(
                method=request.method,
                etag=etag,
                mtime=st.st_mtime,
                if_match=parse_etag_list(fields.get(b"if-match")),
                if_none_match=parse_etag_list(fields.get(b"if-none-match")),
                if_modified_since=_http_date_seconds(fields.get(b"if-modified-since")),
                if_unmodified_since=_http_date_seconds(fields.get(b"if-unmodified-since")),
            )
            if verdict is not None:
                self.set_status(verdict)
                if verdict == 412:
                    headers[_CONTENT_LENGTH] = "0"
                else:
                    headers.popall(_CONTENT_TYPE, None)
                writer = await StreamResponse.prepare(self, request)
                await self.write_eof()
                return writer
            range_header = fields.get(b"range")
            if range_header is not None and fly is None and self._if_range_holds(fields, etag, st):
                try:
                    ranges = parse_byte_ranges(range_header, size)
                except RangeNotSatisfiable:
                    self.set_status(416)
                    headers["Content-Range"] = f"bytes */{size}"
                    headers[_CONTENT_LENGTH] = "0"
                    writer = await StreamResponse.prepare(self, request)
                    await self.write_eof()
                    return writer
        if fly is not None:
            return await self._send_compressed(request, fd, size, fly)
        if ranges is None:
            return await self._send_ranges(request, fd, [(0, size)], size, whole=True)
        self.set_status(206)
        return await self._send_ranges(request, fd, ranges, size, whole=False)

    def _if_range_holds(self, fields: dict[bytes, str], etag: ETag, st: os.stat_result) -> bool:
        value = fields.get(b"if-range")
        if value is None:
            return True
        tag = parse_etag(value)
        if tag is not None:
            return not tag.is_weak and etag_matches((tag,), etag, weak=False)
        date = _http_date_seconds(value)
        return date is not None and int(st.st_mtime) == int(date)

    def _start(self, request: BaseRequest) -> Any:
        self._req = request
        writer = self._writer = request._writer
        return writer

    async def _send_compressed(self, request: BaseRequest, fd: int, size: int, coding: str) -> Any:
        """The whole file through a compressor: the head with the body when it is small."""
        headers = self._headers
        headers.popall(_CONTENT_LENGTH, None)
        headers[_CONTENT_ENCODING] = coding
        compressor: Compressor = make_compressor(coding, strategy=self._compression_strategy)
        if request._prepare_hooks:
            self._req = request
            await request._on_response_prepare(self)
        writer = self._start(request)
        if request.method == "HEAD":
            self._send_head(request, None)
            writer.write_eof()
            self._eof_sent = True
            return writer
        if size <= _INLINE_LIMIT:
            data = os.pread(fd, size, 0)
            self._send_head(request, compressor.compress(data) + compressor.finish())
            self._body_length = len(data)
            self._eof_sent = True
            return writer
        self._send_head(request, None)
        self._compressor = compressor
        loop = asyncio.get_running_loop()
        chunk_size = self._chunk_size
        offset = 0
        while offset < size:
            data = await loop.run_in_executor(None, os.pread, fd, chunk_size, offset)
            if not data:
                break
            offset += len(data)
            await self.write(data)
        await self.write_eof()
        return writer

    async def _send_ranges(
        self,
        request: BaseRequest,
        fd: int,
        ranges: list[tuple[int, int]],
        size: int,
        *,
        whole: bool,
    ) -> Any:
        headers = self._headers
        parts: list[tuple[bytes, int, int]] = []
        if whole or len(ranges) == 1:
            start, end = ranges[0]
            if not whole:
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
            headers[_CONTENT_LENGTH] = str(end - start)
            parts.append((b"", start, end))
            tail = b""
        else:
            boundary = secrets.token_hex(16)
            ctype = headers[_CONTENT_TYPE]
            headers[_CONTENT_TYPE] = f"multipart/byteranges; boundary={boundary}"
            total = 0
            for start, end in ranges:
                part_head = (
                    f"\r\n--{boundary}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
                ).encode("latin-1")
                parts.append((part_head, start, end))
                total += len(part_head) + end - start
            tail = f"\r\n--{boundary}--\r\n".encode("latin-1")
            headers[_CONTENT_LENGTH] = str(total + len(tail))
        if request._prepare_hooks:
            self._req = request
            await request._on_response_prepare(self)
        writer = self._start(request)
        if request.method == "HEAD":
            self._send_head(request, b"")
            self._eof_sent = True
            return writer
        count = sum(end - start for _, start, end in parts)
        if len(parts) == 1 and count <= _INLINE_LIMIT:
            data = os.pread(fd, count, parts[0][1])
            if len(data) != count:
                raise OSError("File shrank while being sent")
            self._send_head(request, data)
            self._body_length = count
            self._eof_sent = True
            return writer
        self._send_head(request, None)
        loop = asyncio.get_running_loop()
        transport = request.transport
        # sendfile wants a file object; this one borrows the descriptor prepare() closes.
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as file:
            for part_head, start, end in parts:
                if part_head:
                    await writer.write(part_head)
                await send_file_range(
                    loop,
                    transport,
                    file,
                    start,
                    end - start,
                    write=writer.write,
                    drain=writer.drain,
                    chunk_size=self._chunk_size,
                )
        if tail:
            await writer.write(tail)
        self._body_length = count
        writer.write_eof()
        self._eof_sent = True
        return writer
