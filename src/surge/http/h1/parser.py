"""HTTP/1.x request parser: bytes in, calls on a sink out. Sans-IO.

Invariants:
- llhttp (strict mode) rejects the smuggling vectors: CL with TE, duplicate or non-digit CL,
  bad chunk framing, bare LF, obs-fold, CR/NUL in values. This module adds what it leaves to us:
  the version (only 1.0 and 1.1), a single Host, and bounded sizes for the request line, each
  header field, the number of fields and the bytes buffered while a head is incomplete.
- After an error the parser is dead; the caller answers ``error.status`` and closes.
- The sink is only called with complete heads; body bytes follow in order, then completion
  (``on_request_complete`` only for a head that announced a body).
"""

from __future__ import annotations

from typing import Protocol

import httptools

from surge.http.errors import BadRequest, HeadersTooLarge, HttpProtocolError, UriTooLong
from surge.http.version import HttpVersion, HttpVersion10, HttpVersion11

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
        expect: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.expect = expect  # an Expect header is present

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

    The llhttp callbacks run for every request, so they do as little as they can: a head is
    in progress exactly while ``_url`` is non-empty, and the per-head state is reset when the
    head completes (not again when the message does).
    """

    __slots__ = (
        "_chunked",
        "_completed",
        "_content_length",
        "_data",
        "_expect",
        "_fed",
        "_framed",
        "_has_host",
        "_headers",
        "_in_body",
        "_parser",
        "_sink",
        "_upgrade",
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
        # The bytes of the current feed when it starts at a message boundary (else empty):
        # lets on_headers_complete read the version off the request line, see _version.
        self._data = b""
        self._in_body = False
        self._reset_head()

    def _reset_head(self) -> None:
        self._fed = 0
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._has_host = False
        self._content_length: int | None = None
        self._chunked = False
        self._expect = False
        self._upgrade = False
        self._framed = False  # one of the four above was set

    @property
    def in_head(self) -> bool:
        """True while a request head has started but not finished arriving."""
        return bool(self._url)

    def feed(self, data: bytes) -> int | None:
        """Parse ``data``; raise :class:`HttpProtocolError` on any violation."""
        # At a message boundary the feed starts with a request line (or stray CRLFs).
        self._data = b"" if self._url or self._in_body else data
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
        if self._url:
            self._bound_pending_head(len(data))
        elif self._headers and len(self._headers) > self.max_headers:
            raise self._too_many_fields()  # chunked trailer fields, across reads
        return None

    def _bound_pending_head(self, size: int) -> None:
        """Bound what llhttp buffers for a head that has not finished arriving.

        ``_fed`` counts the bytes that certainly belong to the unfinished head: a whole feed
        when no earlier request completed inside it. When one did (pipelining), this head's
        share of the feed is unknown; it is at most that one read, so it is not counted.
        """
        if len(self._headers) > self.max_headers:
            raise self._too_many_fields()
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
        # The first callback of every message (llhttp rejects an empty target), so a
        # non-empty ``_url`` also marks a head in progress; no on_message_begin is needed.
        if self._url:
            url = self._url + url
        if len(url) > self.max_line_size:
            raise UriTooLong(f"Request line is longer than {self.max_line_size} bytes")
        self._url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        # The number of fields is checked per head and per feed (on_headers_complete,
        # _bound_pending_head), not per field: one read can only add so many.
        headers = self._headers
        if len(name) + len(value) > self.max_field_size:
            raise HeadersTooLarge(f"Header field is longer than {self.max_field_size} bytes")
        if len(name) in _FRAMING_NAME_LENGTHS:
            lowered = name.lower()
            if lowered == b"host":  # in every request: checked here, without a call
                if self._has_host:
                    raise BadRequest("Duplicate Host header")
                self._has_host = True
            elif lowered in _FRAMING_NAMES:
                self._framing_header(lowered, value)
        headers.append((name, value))

    def _too_many_fields(self) -> HeadersTooLarge:
        return HeadersTooLarge(f"More than {self.max_headers} header fields")

    def _framing_header(self, lowered: bytes, value: bytes) -> None:
        """Content-Length, Expect, Transfer-Encoding and Upgrade shape how a request is read
        (so does Host, handled in on_header)."""
        self._framed = True
        if lowered == b"content-length":
            self._content_length = int(value)
        elif lowered == b"transfer-encoding":
            # llhttp accepts only a final "chunked" coding for requests.
            self._chunked = True
        elif lowered == b"expect":
            self._expect = True
        elif lowered == b"upgrade":
            self._upgrade = True

    def on_headers_complete(self) -> None:
        if len(self._headers) > self.max_headers:
            raise self._too_many_fields()
        parser = self._parser
        raw_method = parser.get_method()
        url = self._url
        data = self._data
        if data and data.startswith(b" HTTP/1.1\r\n", len(raw_method) + 1 + len(url)):
            # The request line is whole in this feed, which llhttp accepted: its version is
            # 1.1 (cheaper than get_http_version, which formats a string per call).
            version: HttpVersion | None = HttpVersion11
        else:
            version = _VERSIONS.get(parser.get_http_version())
        if version is None:
            raise BadRequest(f"Unsupported HTTP version {parser.get_http_version()}")
        # Only the first head of a feed sits at a known offset in it.
        self._data = b""
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        content_length = self._content_length
        chunked = self._chunked and content_length is None
        if chunked and version is HttpVersion10:
            # RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        # RequestHead(...) without the call: its slots filled here, once per request.
        head = _new_head(RequestHead)
        head.method = method
        head.target = url.decode("latin-1")
        head.version = version
        head.headers = self._headers
        head.keep_alive = parser.should_keep_alive()
        # llhttp upgrades only with an Upgrade header or for CONNECT: ask it only then.
        head.upgrade = (self._upgrade or method == "CONNECT") and parser.should_upgrade()
        head.chunked = chunked
        head.content_length = content_length
        head.expect = self._expect
        self._in_body = chunked or bool(content_length)
        # Fresh state for the next head; chunked trailer fields, which llhttp reports through
        # on_header after this point, land in the fresh list and are never part of ``head``.
        if self._framed:
            self._reset_head()
        else:  # only what every head sets
            self._url = b""
            self._headers = []
            self._has_host = False
            self._fed = 0
        self._sink.on_request(head)

    def on_body(self, body: bytes) -> None:
        self._sink.on_body(body)

    def on_message_complete(self) -> None:
        self._completed = True
        if self._in_body:  # the sink hears of completion only for a request with a body
            self._in_body = False
            if self._headers:  # trailer fields of a chunked body: dropped
                if len(self._headers) > self.max_headers:
                    raise self._too_many_fields()
                self._reset_head()
            self._sink.on_request_complete()


_new_head = object.__new__

# The header names on_header and ``_framing_header`` look at, and their lengths: only names
# of those lengths pay for a lower().
_FRAMING_NAMES = frozenset(
    {b"host", b"expect", b"content-length", b"transfer-encoding", b"upgrade"}
)
_FRAMING_NAME_LENGTHS = frozenset(len(name) for name in _FRAMING_NAMES)
