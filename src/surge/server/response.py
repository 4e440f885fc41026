"""StreamResponse: the response a handler writes piece by piece, and what every response
shares (status, headers, cookies, compression, framing).

A response is written through ``request._writer`` (the connection's framing: an HTTP/1.1
connection or an HTTP/2 stream). ``Response``, whose whole body is known, is in
``surge.server.full_response``.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Awaitable, Iterator, Mapping, MutableMapping
from email.utils import formatdate, parsedate_to_datetime
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, istr

from surge.http.content.compression import (
    COMPRESSION_MIN_SIZE,
    Compressor,
    choose_coding,
    is_compressible,
    make_compressor,
)
from surge.http.h1.writer import status_reason

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["ContentCoding", "LooseHeaders", "StreamResponse"]

LooseHeaders = Mapping[str, str] | Mapping[istr, str] | CIMultiDict[str] | Any

_CONTENT_TYPE = istr("Content-Type")
_CONTENT_LENGTH = istr("Content-Length")
_CONTENT_ENCODING = istr("Content-Encoding")
_VARY = istr("Vary")


class ContentCoding(enum.Enum):
    deflate = "deflate"
    gzip = "gzip"
    identity = "identity"
    br = "br"
    zstd = "zstd"


class StreamResponse(MutableMapping[str, Any]):
    """A response whose body the handler writes piece by piece after ``prepare``.

    Example::

        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"chunk")
        await resp.write_eof()
    """

    _body: bytes | None = None
    # Per-instance state that most responses never change lives here as class defaults, so a
    # response costs only the stores it needs.
    _cookies: SimpleCookie | None = None
    _req: BaseRequest | None = None
    _writer: Any = None
    _eof_sent = False
    _keep_alive: bool | None = None
    _chunked = False
    _compression = False
    _compression_force: ContentCoding | None = None
    _compression_strategy: int | None = None
    _compressor: Compressor | None = None
    _body_length = 0
    _head_length = 0
    _state: dict[str, Any] | None = None
    _trailers: CIMultiDict[str] | None = None

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        self._status = status if type(status) is int else int(status)
        self._reason = reason
        self._headers: CIMultiDict[str] = (
            CIMultiDict(headers) if headers is not None else CIMultiDict()
        )

    def __repr__(self) -> str:
        info = "eof" if self._eof_sent else ("not prepared" if not self.prepared else "prepared")
        return f"<{type(self).__name__} {self.status} {self.reason} {info}>"

    # mapping of user state, like aiohttp's
    def __getitem__(self, key: str) -> Any:
        return (self._state or {})[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if self._state is None:
            self._state = {}
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del (self._state or {})[key]

    def __len__(self) -> int:
        return len(self._state or {})

    def __iter__(self) -> Iterator[str]:
        return iter(self._state or {})

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    # status ----------------------------------------------------------------------------------

    @property
    def prepared(self) -> bool:
        return self._eof_sent or self._writer is not None

    @property
    def task(self) -> Any:
        return self._req.task if self._req is not None else None

    @property
    def trailers(self) -> CIMultiDict[str]:
        """Trailer fields sent after the body by ``write_eof`` (HTTP/2; not sent on HTTP/1.1)."""
        if self._trailers is None:
            self._settle_headers()
            self._trailers = CIMultiDict()
        return self._trailers

    @property
    def status(self) -> int:
        return self._status

    @property
    def reason(self) -> str:
        return self._reason if self._reason is not None else status_reason(self._status)

    def set_status(self, status: int, reason: str | None = None) -> None:
        if self.prepared:
            raise RuntimeError(
                "Cannot change the response status code after the headers have been sent"
            )
        self._status = int(status)
        self._reason = reason

    @property
    def keep_alive(self) -> bool | None:
        return self._keep_alive

    def force_close(self) -> None:
        self._settle_headers()
        self._keep_alive = False

    @property
    def body_length(self) -> int:
        """Bytes of the response sent so far: the head as it went on the wire (HTTP/1.x)
        and the body; the access log's ``%b``."""
        return self._head_length + self._body_length

    @property
    def output_length(self) -> int:
        return self._head_length + self._body_length

    @property
    def chunked(self) -> bool:
        return self._chunked

    @property
    def compression(self) -> bool:
        return self._compression

    def enable_chunked_encoding(self, chunk_size: int | None = None) -> None:
        if _CONTENT_LENGTH in self._headers:
            raise RuntimeError("You can't enable chunked encoding when a content length is set")
        self._chunked = True

    def enable_compression(
        self, force: ContentCoding | bool | None = None, strategy: int | None = None
    ) -> None:
        """Compress the body: with ``force`` in that coding, else in the best coding the
        client accepts (br, zstd, gzip, deflate by ``Accept-Encoding`` q-values).

        ``strategy`` is zlib's (``zlib.Z_FILTERED``...) for gzip and deflate.
        """
        if isinstance(force, bool):
            force = ContentCoding.deflate if force else ContentCoding.identity
        self._settle_headers()
        self._compression = True
        self._compression_force = force
        self._compression_strategy = strategy

    # headers ---------------------------------------------------------------------------------

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._headers

    def _settle_headers(self) -> None:
        """Called before a change that ``send_simple`` does not carry (cookies, compression,
        trailers, keep-alive): a ``Response(text=...)`` builds its header multidict, which
        takes it off that path. A StreamResponse has its multidict already."""

    @property
    def cookies(self) -> SimpleCookie:
        if self._cookies is None:
            self._settle_headers()
            self._cookies = SimpleCookie()
        return self._cookies

    def set_cookie(
        self,
        name: str,
        value: str,
        *,
        expires: str | None = None,
        domain: str | None = None,
        max_age: int | str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        version: str | None = None,
        samesite: str | None = None,
        partitioned: bool | None = None,
    ) -> None:
        """Set a cookie: each becomes one ``Set-Cookie`` header when the response is sent.

        ``resp.set_cookie("sid", "abc", max_age=3600, httponly=True, samesite="Lax")``
        """
        from surge.http.cookies import make_morsel

        morsel = make_morsel(
            name,
            value,
            {
                "expires": expires,
                "domain": domain,
                "max-age": str(max_age) if max_age is not None else None,
                "path": path,
                "secure": secure,
                "httponly": httponly,
                "version": version,
                "samesite": samesite,
                "partitioned": partitioned,
            },
        )
        self.cookies[name] = morsel

    def del_cookie(
        self,
        name: str,
        *,
        domain: str | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool | None = None,
        samesite: str | None = None,
    ) -> None:
        """Ask the client to delete a cookie (an empty one, expired and with Max-Age=0)."""
        self.cookies.pop(name, None)
        self.set_cookie(
            name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            domain=domain,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    @property
    def content_length(self) -> int | None:
        value = self._headers.get(_CONTENT_LENGTH)
        return int(value) if value is not None else None

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is not None:
            value = int(value)
            if self._chunked:
                raise RuntimeError("You can't set content length when chunked encoding is enabled")
            self._headers[_CONTENT_LENGTH] = str(value)
        else:
            self._headers.pop(_CONTENT_LENGTH, None)

    @property
    def content_type(self) -> str:
        raw = self._headers.get(_CONTENT_TYPE)
        if raw is None:
            return "application/octet-stream"
        return raw.partition(";")[0].strip().lower()

    @content_type.setter
    def content_type(self, value: str) -> None:
        charset = self.charset
        value = str(value)
        self._headers[_CONTENT_TYPE] = f"{value}; charset={charset}" if charset else value

    @property
    def charset(self) -> str | None:
        raw = self._headers.get(_CONTENT_TYPE)
        if raw is None:
            return None
        for param in raw.split(";")[1:]:
            key, _, val = param.partition("=")
            if key.strip().lower() == "charset":
                return val.strip().strip('"').lower()
        return None

    @charset.setter
    def charset(self, value: str | None) -> None:
        ctype = self.content_type
        if ctype == "application/octet-stream" and _CONTENT_TYPE not in self._headers:
            raise RuntimeError(
                "Setting charset for application/octet-stream doesn't make sense, setup content_type first"
            )
        if value is None:
            self._headers[_CONTENT_TYPE] = ctype
        else:
            self._headers[_CONTENT_TYPE] = f"{ctype}; charset={value.lower()}"

    @property
    def last_modified(self) -> datetime.datetime | None:
        value = self._headers.get("Last-Modified")
        if value is None:
            return None
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None

    @last_modified.setter
    def last_modified(self, value: int | float | datetime.datetime | str | None) -> None:
        if value is None:
            self._headers.pop("Last-Modified", None)
        elif isinstance(value, int | float):
            self._headers["Last-Modified"] = formatdate(math.ceil(value), usegmt=True)
        elif isinstance(value, datetime.datetime):
            if value.tzinfo is None:  # a naive datetime is taken as UTC, not local time
                value = value.replace(tzinfo=datetime.UTC)
            self._headers["Last-Modified"] = formatdate(value.timestamp(), usegmt=True)
        elif isinstance(value, str):
            self._headers["Last-Modified"] = value
        else:
            raise TypeError(f"Unsupported type for last_modified: {type(value).__name__}")

    @property
    def etag(self) -> Any:
        from surge.http.conditional import ETag, parse_etag

        value = self._headers.get("ETag")
        if value is None:
            return None
        return parse_etag(value) or ETag(value=value)

    @etag.setter
    def etag(self, value: Any) -> None:
        from surge.http.conditional import ETag, format_etag

        if value is None:
            self._headers.pop("ETag", None)
        elif isinstance(value, str) and value != "*":
            self._headers["ETag"] = format_etag(ETag(value=value))
        elif isinstance(value, ETag):
            self._headers["ETag"] = format_etag(value)
        elif value == "*":
            self._headers["ETag"] = "*"
        else:
            raise ValueError(f"Unsupported etag type: {type(value).__name__}")

    # writing ---------------------------------------------------------------------------------

    async def prepare(self, request: BaseRequest) -> Any:
        """Send the status line and headers; returns the body writer."""
        if self._eof_sent:
            return None
        if self._writer is not None:
            return self._writer
        self._req = request
        if request._prepare_hooks:
            await request._on_response_prepare(self)
        self._writer = request._writer
        if request._auto_compress and not self._compression:
            self._auto_compress_stream(request)
        self._send_head(request, None)
        return self._writer

    def _auto_compress_stream(self, request: BaseRequest) -> None:
        """Automatic compression of a streamed body, decided at ``prepare`` (after the
        prepare hooks): as for a known body, unless a declared length is below
        COMPRESSION_MIN_SIZE. Event streams are never compressed (see ``is_compressible``)."""
        length = self._headers.get(_CONTENT_LENGTH)
        if length is not None and (not length.isdigit() or int(length) < COMPRESSION_MIN_SIZE):
            return
        self._auto_compress(request)

    def _cookie_headers(self) -> None:
        if self._cookies:
            add = self._headers.add
            for morsel in self._cookies.values():
                add("Set-Cookie", morsel.OutputString())

    def _send_head(self, request: BaseRequest, body: bytes | None) -> None:
        if self._cookies:
            self._cookie_headers()
        if self._compression:
            body = self._compress(request, body)
        self._head_length = request._writer.send_head(
            request,
            self._status,
            self._reason,
            self._headers,
            keep_alive=self._keep_alive,
            chunked=self._chunked,
            body=body,
        )

    def _compress(self, request: BaseRequest, body: bytes | None) -> bytes | None:
        """Set up the coding chosen by ``enable_compression``; returns the body to send."""
        headers = self._headers
        if _CONTENT_ENCODING in headers:
            return body  # already encoded by the handler
        force = self._compression_force
        if force is None:
            _add_vary(headers)
            coding = choose_coding(request._head.field(b"accept-encoding"))
            if coding is None:
                return body
        elif force is ContentCoding.identity:
            return body
        else:
            coding = force.value
        compressor = make_compressor(coding, strategy=self._compression_strategy)
        headers[_CONTENT_ENCODING] = coding
        headers.popall(_CONTENT_LENGTH, None)
        if body is not None:
            return compressor.compress(body) + compressor.finish()
        self._compressor = compressor
        return None

    def _auto_compress(self, request: BaseRequest) -> None:
        """Decide automatic compression of a known body of at least COMPRESSION_MIN_SIZE.

        Skipped for responses that are not plain 200-ish content: partial content,
        already-encoded bodies, types that do not compress, and ``Cache-Control:
        no-transform``.
        """
        headers = self._headers
        status = self._status
        if status < 200 or status in (204, 206, 304) or _CONTENT_ENCODING in headers:
            return
        if not is_compressible(headers.get(_CONTENT_TYPE, "")):
            return
        cache_control = headers.get("Cache-Control")
        if cache_control is not None and "no-transform" in cache_control.lower():
            return
        if "Content-Range" in headers:
            return
        _add_vary(headers)
        coding = choose_coding(request._head.field(b"accept-encoding"))
        if coding is not None:
            self._compression = True
            self._compression_force = ContentCoding(coding)

    def write(self, data: bytes | bytearray | memoryview) -> Awaitable[None]:
        """Send ``data`` at once; await the result to respect flow control.

        The bytes leave even when the result is not awaited, so
        ``response.write(b"...")`` followed by ``await response.drain()`` works.
        """
        if self._eof_sent:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._writer is None:
            raise RuntimeError("Cannot call write() before prepare()")
        if not isinstance(data, bytes):
            if isinstance(data, bytearray | memoryview):
                data = bytes(data)
            else:
                raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        self._body_length += len(data)
        compressor = self._compressor
        if compressor is not None:
            # Flushed per write: a streamed piece reaches the client now, not when the
            # compressor's window fills.
            data = compressor.compress(data) + compressor.flush()
        result: Awaitable[None] = self._writer.write(data)
        return result

    async def drain(self) -> None:
        if self._writer is None:
            raise RuntimeError("Response has not been started")
        await self._writer.drain()

    async def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        if self._writer is None:
            raise RuntimeError("Response has not been started")
        self._body_length += len(data)
        compressor = self._compressor
        if compressor is not None:
            data = compressor.compress(data) + compressor.finish()
            self._compressor = None
        if self._trailers and hasattr(self._writer, "write_trailers"):
            self._writer.write_trailers(data, self._trailers)
        else:
            self._writer.write_eof(data)
        self._eof_sent = True


def _add_vary(headers: CIMultiDict[str]) -> None:
    vary = headers.get(_VARY)
    if vary is None:
        headers[_VARY] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower() and vary.strip() != "*":
        headers[_VARY] = f"{vary}, Accept-Encoding"
