"""FileResponse: a file from disk with validators, conditional requests, ranges and sendfile.

Invariants: only regular files are sent (a FIFO or device is never opened for reading: the
descriptor is opened non-blocking and checked with ``fstat``); the descriptor is closed in a
``finally`` whatever happens to the connection; a precompressed sibling (``.br``, ``.zst``,
``.gz``) replaces the file only when the client accepts its coding.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import secrets
import stat
from email.utils import formatdate
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from multidict import istr

from surge.http.conditional import (
    ETag,
    RangeNotSatisfiable,
    etag_matches,
    evaluate_preconditions,
    parse_byte_ranges,
    parse_etag,
)
from surge.http.content.compression import available_codings, choose_coding
from surge.net.sendfile import send_file_range
from surge.server.response import LooseHeaders, StreamResponse

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["FileResponse"]

_CONTENT_TYPE = istr("Content-Type")
_CONTENT_LENGTH = istr("Content-Length")
_CONTENT_ENCODING = istr("Content-Encoding")
# Files up to this size leave with the head in one write, read inline from the page cache.
_INLINE_LIMIT = 64 * 1024
_SIBLINGS = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}
_SIBLING_CODINGS = tuple(c for c in available_codings() if c in _SIBLINGS)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_ENCODED_TYPES = {"gzip": "application/gzip", "br": "application/x-brotli"}


class _NotRegular(OSError):
    pass


def _open_regular(path: str) -> tuple[IO[bytes], os.stat_result]:
    """Open ``path`` for reading only if it is a regular file (never blocks on a FIFO)."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _NotRegular(path)
        return os.fdopen(fd, "rb", buffering=0), st
    except BaseException:
        os.close(fd)
        raise


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
        self._path = Path(path)
        self._chunk_size = chunk_size

    def _compress(self, request: BaseRequest, body: bytes | None) -> bytes | None:
        # File bodies go out by sendfile; compression comes from precompressed siblings.
        return body

    def _open(self, request: BaseRequest) -> tuple[IO[bytes], os.stat_result, str | None]:
        """The file to send: a precompressed sibling when accepted, else the file itself."""
        path = str(self._path)
        if _SIBLING_CODINGS and _CONTENT_ENCODING not in self._headers:
            accept = request.headers.get("Accept-Encoding")
            if accept:
                offered = _SIBLING_CODINGS
                while offered:
                    coding = choose_coding(accept, offered)
                    if coding is None:
                        break
                    try:
                        file, st = _open_regular(path + _SIBLINGS[coding])
                    except OSError:
                        offered = tuple(c for c in offered if c != coding)
                        continue
                    return file, st, coding
        file, st = _open_regular(path)
        return file, st, None

    async def prepare(self, request: BaseRequest) -> Any:
        if self._eof_sent:
            return None
        if self._writer is not None:
            return self._writer
        try:
            file, st, coding = self._open(request)
        except (FileNotFoundError, NotADirectoryError, _NotRegular, IsADirectoryError):
            return await self._send_empty(request, 404 if self._status == 200 else self._status)
        except PermissionError:
            return await self._send_empty(request, 403)
        try:
            return await self._send_file(request, file, st, coding)
        finally:
            file.close()

    async def _send_empty(self, request: BaseRequest, status: int) -> Any:
        self.set_status(status)
        self._headers[_CONTENT_LENGTH] = "0"
        writer = await StreamResponse.prepare(self, request)
        await self.write_eof()
        return writer

    async def _send_file(
        self, request: BaseRequest, file: IO[bytes], st: os.stat_result, coding: str | None
    ) -> Any:
        headers = self._headers
        size = st.st_size
        etag = ETag(value=f"{st.st_mtime_ns:x}-{size:x}")
        headers["ETag"] = f'"{etag.value}"'
        headers["Last-Modified"] = formatdate(st.st_mtime, usegmt=True)
        headers["Accept-Ranges"] = "bytes"
        if _CONTENT_TYPE not in headers:
            ctype, encoding = mimetypes.guess_type(self._path.name)
            if ctype is None or (encoding is not None and coding is None):
                # a plain "x.gz" is an archive to download, not text in gzip clothing
                ctype = _ENCODED_TYPES.get(encoding or "", "application/octet-stream")
            headers[_CONTENT_TYPE] = ctype
        if coding is not None:
            headers[_CONTENT_ENCODING] = coding
        if _SIBLING_CODINGS and "Vary" not in headers:
            headers["Vary"] = "Accept-Encoding"

        req_headers = request.headers
        status = self._status
        if status == 200:
            verdict = evaluate_preconditions(
                method=request.method,
                etag=etag,
                mtime=st.st_mtime,
                if_match=request.if_match,
                if_none_match=request.if_none_match,
                if_modified_since=_http_date_seconds(req_headers.get("If-Modified-Since")),
                if_unmodified_since=_http_date_seconds(req_headers.get("If-Unmodified-Since")),
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

        ranges: list[tuple[int, int]] | None = None
        range_header = req_headers.get("Range")
        if status == 200 and range_header is not None and self._if_range_holds(request, etag, st):
            try:
                ranges = parse_byte_ranges(range_header, size)
            except RangeNotSatisfiable:
                self.set_status(416)
                headers["Content-Range"] = f"bytes */{size}"
                headers[_CONTENT_LENGTH] = "0"
                writer = await StreamResponse.prepare(self, request)
                await self.write_eof()
                return writer
        if ranges is None:
            return await self._send_ranges(request, file, [(0, size)], size, whole=True)
        self.set_status(206)
        return await self._send_ranges(request, file, ranges, size, whole=False)

    def _if_range_holds(self, request: BaseRequest, etag: ETag, st: os.stat_result) -> bool:
        value = request.headers.get("If-Range")
        if value is None:
            return True
        tag = parse_etag(value)
        if tag is not None:
            return not tag.is_weak and etag_matches((tag,), etag, weak=False)
        date = _http_date_seconds(value)
        return date is not None and int(st.st_mtime) == int(date)

    async def _send_ranges(
        self,
        request: BaseRequest,
        file: IO[bytes],
        ranges: list[tuple[int, int]],
        size: int,
        *,
        whole: bool,
    ) -> Any:
        headers = self._headers
        loop = asyncio.get_running_loop()
        head_only = request.method == "HEAD"
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
        self._req = request
        writer = self._writer = request._writer
        if head_only:
            self._send_head(request, b"")
            self._eof_sent = True
            return writer
        count = sum(end - start for _, start, end in parts)
        if len(parts) == 1 and count <= _INLINE_LIMIT:
            file.seek(parts[0][1])
            data = file.read(count)
            if len(data) != count:
                raise OSError("File shrank while being sent")
            self._send_head(request, data)
            self._body_length = count
            self._eof_sent = True
            return writer
        self._send_head(request, None)
        transport = request.transport
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
