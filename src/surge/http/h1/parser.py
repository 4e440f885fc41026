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

from collections.abc import Callable
from typing import Protocol

import httptools

from surge.http.errors import BadRequest, HeadersTooLarge, HttpProtocolError, UriTooLong
from surge.http.h1.head import RequestHead
from surge.http.version import HttpVersion, HttpVersion10, HttpVersion11

__all__ = ["H1RequestParser", "RequestHead", "RequestSink"]


class _MethodNames(dict[bytes, str]):
    """llhttp's method name -> one shared str (llhttp knows a few dozen methods)."""

    def __missing__(self, raw: bytes) -> str:
        name = self[raw] = raw.decode("ascii")
        return name


_METHODS = _MethodNames(
    (m.encode(), m)
    for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE")
)
_VERSIONS = {"1.1": HttpVersion11, "1.0": HttpVersion10}


class RequestSink(Protocol):
    def on_request(self, head: RequestHead) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_request_complete(self) -> None: ...


class H1RequestParser:
    """Feeds bytes to llhttp and reports heads, body chunks and completions to ``sink``.

    ``feed`` returns ``None`` normally, or the offset in ``data`` where an upgraded
    protocol's bytes start (after a request with ``Upgrade`` or ``CONNECT``).

    Two llhttp parsers, never both at work. The lean one takes no header callbacks into
    Python: llhttp validates the head, and ``_lean_head`` reads it off the bytes of the
    feed, at ``_pos``, where the message starts. That offset is known while every head ends
    inside the feed it started in and every body has a Content-Length; a head left
    unfinished at the end of a feed, or a chunked request, is handed (re-fed from its first
    byte) to the full parser, whose callbacks collect every piece, until a feed leaves it at
    a message boundary. Both give the same heads; the lean one spares the usual request,
    whole in one read, a Python call per field.

    The full parser's callbacks do as little as they can: the per-head state is reset when
    the head completes (not again when the message does).
    """

    __slots__ = (
        "_buf",
        "_chunked",
        "_completed",
        "_content_length",
        "_count_above",
        "_data",
        "_expect",
        "_fed",
        "_framed",
        "_full",
        "_has_host",
        "_headers",
        "_in_body",
        "_lean",
        "_max_headers",
        "_parser",
        "_pos",
        "_remaining",
        "_sink",
        "_started",
        "_url",
        "in_head",
        "max_field_size",
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
        self._lean = _LeanCallbacks(self._lean_head, self._lean_body)
        self._parser = httptools.HttpRequestParser(self._lean)
        self._full: httptools.HttpRequestParser | None = None  # made on first need
        # Lean mode: the feed, the offset in it where the next message starts (past its end
        # while a body continues into the next feed), and the body bytes still to come.
        self._buf = b""
        self._pos = 0
        self._remaining = 0
        self._completed = False
        # Full mode: the bytes of the current feed when it starts at a message boundary
        # (else empty): lets on_headers_complete read the version off the request line.
        self._data = b""
        self._in_body = False
        self._started = False  # full mode: a message has begun and not completed
        # True while a request head has started but not finished arriving (a plain value,
        # not a property: the protocol reads it after every feed). Only the full parser
        # holds an unfinished head.
        self.in_head = False
        self._reset_head()

    @property
    def max_headers(self) -> int:
        return self._max_headers

    @max_headers.setter
    def max_headers(self, value: int) -> None:
        self._max_headers = value
        # A field takes at least 4 bytes ("a:" CRLF): a shorter block needs no counting.
        self._count_above = 4 * value + 5

    def _reset_head(self) -> None:
        self._fed = 0
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._has_host = False
        self._content_length: int | None = None
        self._chunked = False
        self._expect = False
        self._framed = False  # one of the three above was set

    def feed(self, data: bytes) -> int | None:
        """Parse ``data``; raise :class:`HttpProtocolError` on any violation."""
        if self._full is not None and self._parser is self._full:
            return self._feed_full(data)
        self._buf = data
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            return int(exc.args[0])
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if type(cause) is not _NeedsFullParser:
                raise _callback_error(cause) from None
            start = cause.start  # re-fed below, outside this handler (exception chaining)
        except httptools.HttpParserError as exc:
            raise _parser_error(exc) from None
        else:
            pos = self._pos - len(data)
            if pos >= 0:
                self._pos = pos
                return None
            start = len(data) + pos  # a head began and did not end in this feed
            if not data[start:].strip(b"\r\n"):
                self._pos = 0  # only stray CRLFs, which llhttp skipped
                return None
        return self._to_full(data, start)

    def _to_full(self, data: bytes, start: int) -> int | None:
        """Re-feed ``data`` from the message starting at ``start`` to the full parser."""
        full = self._full
        if full is None:
            full = self._full = httptools.HttpRequestParser(self)
        self._parser = full
        offset = self._feed_full(data[start:] if start else data)
        return None if offset is None else start + offset

    def _feed_full(self, data: bytes) -> int | None:
        # At a message boundary the feed starts with a request line (or stray CRLFs).
        self._data = b"" if self._started else data
        self._completed = False
        try:
            self._full.feed_data(data)  # type: ignore[union-attr]
        except httptools.HttpParserUpgrade as exc:
            return int(exc.args[0])
        except httptools.HttpParserCallbackError as exc:
            raise _callback_error(exc.__context__) from None
        except httptools.HttpParserError as exc:
            raise _parser_error(exc) from None
        if self._started and not self._in_body:
            self._bound_pending_head(len(data))
        elif self._headers and len(self._headers) > self.max_headers:
            raise self._too_many_fields()  # chunked trailer fields, across reads
        elif not self._started:  # at a message boundary: a fresh lean parser goes on
            self._parser = httptools.HttpRequestParser(self._lean)
            self._pos = 0
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

    # lean llhttp callbacks ------------------------------------------------------------------

    def _lean_head(self) -> None:
        """The head llhttp just accepted, read off the feed: it starts at ``_pos`` (after
        any stray CRLFs) and ends at the first empty line; no field is folded, every line
        ends in CRLF and holds a colon, so field names are found by plain search."""
        data = self._buf
        start = self._pos
        while data[start] in _CRLF:
            start += 1
        line_end = data.find(b"\r\n", start)
        end = data.find(b"\r\n\r\n", line_end)
        parser = self._parser
        raw_method = parser.get_method()
        version_text = data[line_end - 9 : line_end]
        if version_text == b" HTTP/1.1":
            version = HttpVersion11
        elif version_text == b" HTTP/1.0":
            version = HttpVersion10
        else:
            raise BadRequest(f"Unsupported HTTP version {parser.get_http_version()}")
        target = data[start + len(raw_method) + 1 : line_end - 9]
        if len(target) > self.max_line_size:
            raise UriTooLong(f"Request line is longer than {self.max_line_size} bytes")
        # Every field between a CRLF before and one after, so "\nname:" finds a name. The
        # names are looked for in a str: ``in`` on bytes is several times slower.
        block = data[line_end : end + 2]
        names = block.decode("latin-1").lower()
        if len(block) > self._count_above and names.count("\r\n") > self.max_headers + 1:
            raise self._too_many_fields()
        if end - line_end > self.max_field_size:
            self._check_field_sizes(block)
        if names.count("\nhost:") > 1:
            raise BadRequest("Duplicate Host header")
        if "\ntransfer-encoding:" in names:
            raise _NeedsFullParser(start)  # chunked: where the next message starts is unknown
        content_length = None
        if "\ncontent-length:" in names:  # llhttp checked it: digits, once, no chunked
            at = names.index("\ncontent-length:") + 16
            content_length = int(names[at : names.index("\r", at)])
            if content_length:
                self._in_body = True
                self._remaining = content_length
            self._pos = end + 4 + content_length
        else:
            self._pos = end + 4
        method = _METHODS[raw_method]
        head = _new_head(RequestHead)
        head.method = method
        head.target = target.strip(b" ").decode("latin-1")  # llhttp allows extra spaces
        head.version = version
        head._fields = None
        head._raw = block
        head.keep_alive = parser.should_keep_alive()
        # llhttp's answer already needs an Upgrade field (with Connection: upgrade) or CONNECT;
        # asking it costs less than looking for the field.
        head.upgrade = parser.should_upgrade()
        head.chunked = False
        head.content_length = content_length
        head.expect = "\nexpect:" in names
        self._sink.on_request(head)

    def _lean_body(self, body: bytes) -> None:
        # The body's length is known, so its last byte completes the message: llhttp's
        # on_message_complete is not needed (and bodiless requests cost no call at all).
        self._sink.on_body(body)
        self._remaining -= len(body)
        if not self._remaining:
            self._in_body = False
            self._sink.on_request_complete()

    def _check_field_sizes(self, block: bytes) -> None:
        limit = self.max_field_size
        for line in block[2:-2].split(b"\r\n"):
            if len(line) > limit:
                name, _, value = line.partition(b":")
                if len(name) + len(value.strip(b" \t")) > limit:
                    raise HeadersTooLarge(f"Header field is longer than {limit} bytes")

    # llhttp callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._started = True
        self.in_head = True

    def on_url(self, url: bytes) -> None:
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
        if value[-1:] in _OWS:  # llhttp strips the leading OWS only
            value = value.rstrip(b" \t")
        headers.append((name, value))

    def _too_many_fields(self) -> HeadersTooLarge:
        return HeadersTooLarge(f"More than {self.max_headers} header fields")

    def _framing_header(self, lowered: bytes, value: bytes) -> None:
        """Content-Length, Expect and Transfer-Encoding shape how a request is read (so does
        Host, handled in on_header; llhttp itself answers whether a request upgrades)."""
        self._framed = True
        if lowered == b"content-length":
            self._content_length = int(value)
        elif lowered == b"transfer-encoding":
            # llhttp accepts only a final "chunked" coding for requests.
            self._chunked = True
        else:  # b"expect"
            self._expect = True

    def on_headers_complete(self) -> None:
        self.in_head = False
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
        method = _METHODS[raw_method]
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
        head._fields = self._headers
        head._raw = b""
        head.keep_alive = parser.should_keep_alive()
        head.upgrade = parser.should_upgrade()  # as in _lean_head
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
        self._started = False
        if self._in_body:  # the sink hears of completion only for a request with a body
            self._in_body = False
            if self._headers:  # trailer fields of a chunked body: dropped
                if len(self._headers) > self.max_headers:
                    raise self._too_many_fields()
                self._reset_head()
            self._sink.on_request_complete()


_new_head = object.__new__
_CRLF = b"\r\n"
_OWS = (b" ", b"\t")


class _LeanCallbacks:
    """What the lean llhttp parser calls: heads and body bytes, nothing per field."""

    __slots__ = ("on_body", "on_headers_complete")

    def __init__(
        self, on_headers_complete: Callable[[], None], on_body: Callable[[bytes], None]
    ) -> None:
        self.on_headers_complete = on_headers_complete
        self.on_body = on_body


class _NeedsFullParser(Exception):
    """Raised in a lean callback: the message at ``start`` goes to the full parser."""

    def __init__(self, start: int) -> None:
        self.start = start


def _callback_error(cause: BaseException | None) -> HttpProtocolError:
    if isinstance(cause, HttpProtocolError):
        return cause
    return BadRequest(str(cause))


def _parser_error(exc: httptools.HttpParserError) -> HttpProtocolError:
    return BadRequest(str(exc.args[0]) if exc.args else "Malformed request")


# The header names on_header and ``_framing_header`` look at, and their lengths: only names
# of those lengths pay for a lower().
_FRAMING_NAMES = frozenset({b"host", b"expect", b"content-length", b"transfer-encoding"})
_FRAMING_NAME_LENGTHS = frozenset(len(name) for name in _FRAMING_NAMES)
