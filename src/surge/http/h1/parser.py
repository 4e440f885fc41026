"""HTTP/1.x request parser: bytes in, calls on a sink out. Sans-IO.

Invariants:
- llhttp (strict mode) rejects the smuggling vectors: CL with TE, duplicate or non-digit CL,
  bad chunk framing, bare LF, obs-fold, CR/NUL in values. This module adds what it leaves to us:
  the version (only 1.0 and 1.1), a single Host, and bounded sizes for the request line, each
  header field, the number of fields and the bytes buffered while a head is incomplete.
- After an error the parser is dead; the caller answers ``error.status`` and closes.
- The sink is only called with complete heads; body bytes follow in order, then completion.
"""

from __future__ import annotations

from typing import Protocol

import httptools

from surge.http.errors import BadRequest, HeadersTooLarge, HttpProtocolError, UriTooLong
from surge.http.version import HttpVersion10, HttpVersion11

__all__ = ["H1RequestParser", "RequestHead", "RequestSink"]

# Interned method strings: no decode per request for the common methods.
_METHODS = {
    m.encode(): m
    for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
}
_VERSIONS = {"1.1": HttpVersion11, "1.0": HttpVersion10}


class RequestHead:
    """A parsed request line and header block; header names and values stay raw bytes."""

    __slots__ = (
        "chunked",
        "content_length",
        "expect",
        "headers",
        "keep_alive",
        "method",
        "target",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: tuple[int, int],
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.expect = False  # an Expect header is present

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)


class RequestSink(Protocol):
    def on_request(self, head: RequestHead) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_request_complete(self) -> None: ...


class H1RequestParser:
    """Feeds bytes to llhttp and reports heads, body chunks and completions to ``sink``.

    ``feed`` returns ``None`` normally, or the offset in ``data`` where an upgraded
    protocol's bytes start (after a request with ``Upgrade`` or ``CONNECT``).
    """

    __slots__ = (
        "_chunked",
        "_completed",
        "_content_length",
        "_expect",
        "_fed",
        "_has_host",
        "_headers",
        "_in_head",
        "_parser",
        "_sink",
        "_url",
        "max_field_size",
        "max_headers",
        "max_line_size",
    )

    def __init__(
        self,
        sink: RequestSink,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
    ) -> None:
        self._sink = sink
        self.max_line_size = max_line_size
        self.max_field_size = max_field_size
        self.max_headers = max_headers
        self._parser = httptools.HttpRequestParser(self)
        self._completed = False
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._has_host = False
        self._content_length: int | None = None
        self._chunked = False
        self._expect = False
        self._in_head = False
        self._fed = 0

    @property
    def in_head(self) -> bool:
        """True while a request head has started but not finished arriving."""
        return self._in_head

    def feed(self, data: bytes) -> int | None:
        """Parse ``data``; raise :class:`HttpProtocolError` on any violation."""
        self._completed = False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            return int(exc.args[0])
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, HttpProtocolError):
                raise cause from None
            raise BadRequest(str(cause)) from cause
        except httptools.HttpParserError as exc:
            raise BadRequest(str(exc.args[0]) if exc.args else "Malformed request") from None
        if self._in_head:
            self._bound_pending_head(len(data))
        return None

    def _bound_pending_head(self, size: int) -> None:
        """Bound what llhttp buffers for a head that has not finished arriving.

        ``_fed`` counts the bytes that certainly belong to the unfinished head: a whole feed
        when no earlier request completed inside it. When one did (pipelining), this head's
        share of the feed is unknown; it is at most that one read, so it is not counted.
        """
        if self._completed:
            self._fed = 0
            return
        self._fed += size
        done = len(self._url) + 16  # the request line, give or take method and version
        if not self._headers:
            if self._fed - done < 16:  # still inside the request line
                if self._fed > self.max_line_size + 16:
                    raise UriTooLong(f"Request line is longer than {self.max_line_size} bytes")
                return
        else:
            done += sum(len(name) + len(value) + 4 for name, value in self._headers)
        if self._fed - done > self.max_field_size + 4:
            raise HeadersTooLarge(f"Header field is longer than {self.max_field_size} bytes")

    # llhttp callbacks -------------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        # The first callback of every message (llhttp rejects an empty target), so it also
        # marks the start of a head; no on_message_begin callback is needed.
        self._in_head = True
        url = self._url + url if self._url else url
        if len(url) > self.max_line_size:
            raise UriTooLong(f"Request line is longer than {self.max_line_size} bytes")
        self._url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        if (
            len(name) + len(value) > self.max_field_size
            or len(headers) >= self.max_headers
            or not self._in_head
        ):
            self._unusual_header(name, value)
            return
        if len(name) in _FRAMING_NAME_LENGTHS:
            lowered = name.lower()
            if lowered in _FRAMING_NAMES:
                self._framing_header(lowered, value)
        headers.append((name, value))

    def _unusual_header(self, name: bytes, value: bytes) -> None:
        if len(name) + len(value) > self.max_field_size:
            raise HeadersTooLarge(f"Header field is longer than {self.max_field_size} bytes")
        if self._in_head:
            raise HeadersTooLarge(f"More than {self.max_headers} header fields")
        # Otherwise a chunked trailer field: never merged into the request's headers.

    def _framing_header(self, lowered: bytes, value: bytes) -> None:
        """Host, Content-Length, Expect and Transfer-Encoding shape how a request is read."""
        if lowered == b"host":
            if self._has_host:
                raise BadRequest("Duplicate Host header")
            self._has_host = True
        elif lowered == b"content-length":
            self._content_length = int(value)
        elif lowered == b"transfer-encoding":
            # llhttp accepts only a final "chunked" coding for requests.
            self._chunked = True
        elif lowered == b"expect":
            self._expect = True

    def on_headers_complete(self) -> None:
        parser = self._parser
        version = _VERSIONS.get(parser.get_http_version())
        if version is None:
            raise BadRequest(f"Unsupported HTTP version {parser.get_http_version()}")
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        self._in_head = False
        chunked = self._chunked and self._content_length is None
        if chunked and version < (1, 1):
            # RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        head = RequestHead(
            method,
            self._url.decode("latin-1"),
            version,
            self._headers,
            parser.should_keep_alive(),
            parser.should_upgrade(),
            chunked,
            self._content_length,
        )
        head.expect = self._expect
        self._sink.on_request(head)

    def on_body(self, body: bytes) -> None:
        self._sink.on_body(body)

    def on_message_complete(self) -> None:
        self._reset()
        self._completed = True
        self._sink.on_request_complete()


# The header names ``_framing_header`` looks at, and their lengths: only names of those
# lengths pay for a lower().
_FRAMING_NAMES = frozenset({b"host", b"expect", b"content-length", b"transfer-encoding"})
_FRAMING_NAME_LENGTHS = frozenset(len(name) for name in _FRAMING_NAMES)
