"""Response, a response whose whole body is known up front, and json_response.

A ``Response(text=...)`` keeps its Content-Type aside instead of building a header multidict
until something needs one, and leaves in a single write (``send_simple``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

from surge.http.content.compression import COMPRESSION_MIN_SIZE
from surge.server.response import (
    _CONTENT_LENGTH,
    _CONTENT_TYPE,
    LooseHeaders,
    StreamResponse,
)
from surge.util.jsonfast import dumps as fast_dumps

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["Response", "json_response"]

JSONEncoder = Callable[[Any], str]

_TEXT_PLAIN_UTF8 = "text/plain; charset=utf-8"
# ``content_type`` -> ``content_type; charset=utf-8`` for Response(text=...): built once.
_UTF8_TYPES: dict[str, str] = {}


class _DeferredHeaders:
    """``Response._headers`` of a ``Response(text=...)``: built from its ``_ctype`` on first
    read. Until then the response's only header is that Content-Type, which lets a writer
    frame it without a multidict (``send_simple``); after, the headers may change, so
    ``_ctype`` is cleared."""

    def __get__(self, inst: Response | None, owner: type[Response]) -> CIMultiDict[str]:
        if inst is None:
            return self  # type: ignore[return-value]
        return _build_headers(inst)


def _build_headers(response: Response) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict({_CONTENT_TYPE: response._ctype or ""})
    response._headers = headers  # shadows the lazy descriptor from now on
    response._ctype = None
    return headers


class Response(StreamResponse):
    """A response whose whole body is known: ``text``, ``body`` (bytes or str) or nothing.

    ``web.Response("Unauthorized", status=401)`` takes the body positionally, as aiohttp does.
    """

    # Set (to the Content-Type value) while the headers are only that Content-Type and have
    # not been materialised; see _DeferredHeaders.
    _ctype: str | None = None
    _headers = _DeferredHeaders()

    def __init__(
        self,
        body: Any = None,
        *,
        status: int = 200,
        reason: str | None = None,
        text: str | None = None,
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        zlib_executor_size: int | None = None,
        zlib_executor: Any = None,
    ) -> None:
        if text is not None and body is None and headers is None and charset is None:
            # The common case, kept short: Response(text=..., content_type=...).
            self._status = status if type(status) is int else int(status)
            self._reason = reason
            if not isinstance(text, str):
                raise TypeError(f"text argument must be str ({type(text)!r})")
            if content_type is None:
                ctype = _TEXT_PLAIN_UTF8
            else:
                cached = _UTF8_TYPES.get(content_type)
                if cached is None:
                    if "charset" in content_type:
                        raise ValueError("charset must not be in content_type argument")
                    cached = f"{content_type}; charset=utf-8"
                    if len(_UTF8_TYPES) < 64:
                        _UTF8_TYPES[content_type] = cached
                ctype = cached
            self._ctype = ctype  # the header multidict is built only if something reads it
            self._body = text.encode()
            self._eof_sent = False  # an instance attribute: read faster than a class default
            return
        if (
            type(body) is bytes
            and content_type is not None
            and text is None
            and headers is None
            and charset is None
            and "charset" not in content_type
        ):
            # The other common case: Response(body=b"...", content_type=...).
            self._status = status if type(status) is int else int(status)
            self._reason = reason
            self._ctype = content_type
            self._body = body
            self._eof_sent = False
            return
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")
        super().__init__(status=status, reason=reason, headers=headers)
        hdrs = self._headers
        if text is not None:
            if _CONTENT_TYPE in hdrs:
                if content_type or charset:
                    raise ValueError(
                        "passing both Content-Type header and content_type or charset params is forbidden"
                    )
            else:
                if not isinstance(text, str):
                    raise TypeError(f"text argument must be str ({type(text)!r})")
                if content_type is None:
                    content_type = "text/plain"
                hdrs[_CONTENT_TYPE] = f"{content_type}; charset={charset or 'utf-8'}"
                self._body = text.encode(charset or "utf-8")
                return
            self.text = text
            return
        if _CONTENT_TYPE in hdrs:
            if content_type is not None or charset is not None:
                raise ValueError(
                    "passing both Content-Type header and content_type or charset params is forbidden"
                )
        elif content_type is not None:
            hdrs[_CONTENT_TYPE] = f"{content_type}; charset={charset}" if charset else content_type
        elif charset is not None:
            hdrs[_CONTENT_TYPE] = f"application/octet-stream; charset={charset}"
        if body is not None:
            self.body = body

    @property
    def body(self) -> bytes | None:
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        if value is None:
            self._body = None
        elif isinstance(value, bytes):
            self._body = value
        elif isinstance(value, bytearray | memoryview):
            self._body = bytes(value)
        elif isinstance(value, str):
            charset = self.charset or "utf-8"
            if _CONTENT_TYPE not in self._headers:
                self._headers[_CONTENT_TYPE] = f"text/plain; charset={charset}"
            self._body = value.encode(charset)
        else:
            raise ValueError(f"Unsupported body type {type(value).__name__}")

    @property
    def text(self) -> str | None:
        if self._body is None:
            return None
        return self._body.decode(self.charset or "utf-8")

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str ({type(text)!r})")
        if _CONTENT_TYPE not in self._headers:
            self._headers[_CONTENT_TYPE] = "text/plain; charset=utf-8"
        self._body = text.encode(self.charset or "utf-8")

    @property
    def content_length(self) -> int | None:
        if self._chunked:
            return None
        if _CONTENT_LENGTH in self._headers:
            return super().content_length
        return len(self._body) if self._body is not None else 0

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("Content length is set automatically")

    async def prepare(self, request: BaseRequest) -> Any:
        if self._eof_sent:
            return None
        if self._writer is not None:
            return self._writer
        if request._prepare_hooks:
            self._req = request
            await request._on_response_prepare(self)
        return self._send(request)

    def _settle_headers(self) -> None:
        if self._ctype is not None:
            _build_headers(self)

    def _send(self, request: BaseRequest) -> Any:
        """Send head and body at once (one write unless chunked); the response is then done.

        ``_writer`` is set once the head is out: a head that cannot be serialised (a CR or LF
        in a header) leaves the response unprepared, so the server can still answer 500.
        """
        self._req = request
        writer = request._writer
        body = self._body
        if (
            body is not None
            and len(body) >= COMPRESSION_MIN_SIZE
            and request._auto_compress
            and not self._compression
        ):
            self._auto_compress(request)
        if self._ctype is not None:
            # Untouched since __init__ but for status and body: Content-Type is its only
            # header (see _settle_headers), so the writer frames it alone.
            self._head_length = writer.send_simple(
                request, self._status, self._reason, self._ctype, body or b"", None
            )
        elif self._chunked:
            self._send_head(request, None)
            self._writer = writer
            compressor = self._compressor
            if compressor is not None:
                body = compressor.compress(body or b"") + compressor.finish()
                self._compressor = None
            if body:
                writer.write(body)
            writer.write_eof()
        elif self._cookies or self._compression:
            self._send_head(request, body if body is not None else b"")
        else:  # _send_head without its call
            self._head_length = writer.send_head(
                request,
                self._status,
                self._reason,
                self._headers,
                keep_alive=self._keep_alive,
                chunked=False,
                body=body if body is not None else b"",
            )
        self._writer = writer
        self._body_length = len(body) if body else 0
        self._eof_sent = True
        return writer

    async def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        await super().write_eof(data)


def json_response(
    data: Any = None,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
    dumps: JSONEncoder = json.dumps,
) -> Response:
    """A ``Response`` holding ``dumps(data)`` as ``application/json``."""
    if data is not None:
        if text or body:
            raise ValueError("only one of data, text, or body should be specified")
        text = fast_dumps(data) if dumps is json.dumps else dumps(data)
    if body is None and headers is None:
        return Response(text=text, status=status, reason=reason, content_type=content_type)
    return Response(
        text=text,
        body=body,
        status=status,
        reason=reason,
        headers=headers,
        content_type=content_type,
    )
