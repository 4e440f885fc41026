"""HTTP/1.x response parser: bytes in, calls on a sink out. Sans-IO.

Invariants:
- One parser reads the responses of one connection in order; the caller says, per response,
  whether it answers a HEAD request (such a response has no body whatever its headers say).
- Informational (1xx) responses other than ``101`` are skipped, except that the sink hears of
  them through ``on_informational`` (for ``Expect: 100-continue``).
- Sizes are bounded: the status line, each header field, the number of fields and the bytes
  buffered while a head is incomplete. Any violation raises an :class:`HttpProtocolError`
  and the parser is dead afterwards.
- A body delimited by the connection closing is finished by :meth:`H1ResponseParser.feed_eof`;
  a body cut short (Content-Length or chunked) makes ``feed_eof`` raise :class:`PayloadError`.
"""

from __future__ import annotations

from typing import Protocol

import httptools

from surge.http.errors import BadStatusLine, HeadersTooLarge, HttpProtocolError, PayloadError
from surge.http.version import HttpVersion10, HttpVersion11

__all__ = ["H1ResponseParser", "ResponseHead", "ResponseSink"]

_VERSIONS = {"1.1": HttpVersion11, "1.0": HttpVersion10}
# The lengths of the names the parser looks at (content-length, -encoding, transfer-encoding,
# set-cookie): any other header is stored without lowercasing its name.
_FRAMING_NAMES = {
    b"content-length": 0,
    b"transfer-encoding": 1,
    b"content-encoding": 2,
    b"set-cookie": 3,
}
_FRAMING_LENGTHS = frozenset(len(name) for name in _FRAMING_NAMES)


class ResponseHead:
    """A parsed status line and header block; header names and values stay raw bytes."""

    __slots__ = (
        "chunked",
        "content_encoding",
        "content_length",
        "headers",
        "keep_alive",
        "reason",
        "set_cookie",
        "status",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        status: int,
        reason: str,
        version: tuple[int, int],
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
        content_encoding: bytes | None = None,
        set_cookie: bool = False,
    ) -> None:
        self.content_encoding = content_encoding
        self.set_cookie = set_cookie  # a Set-Cookie field is among the headers
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length


class ResponseSink(Protocol):
    def on_response(self, head: ResponseHead) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_response_complete(self) -> None: ...


class _HeadDone(Exception):
    """Stops llhttp after the head of a response to HEAD (it would wait for a body)."""


class H1ResponseParser:
    """Feeds bytes to llhttp and reports heads, body chunks and completion to ``sink``."""

    __slots__ = (
        "_chunked",
        "_content_length",
        "_cookies",
        "_encoding",
        "_fed",
        "_headers",
        "_in_head",
        "_in_message",
        "_informational",
        "_parser",
        "_reason",
        "_sink",
        "_until_eof",
        "head_request",
        "max_field_size",
        "max_headers",
        "max_line_size",
        "on_body",
        "read_until_eof",
    )

    def __init__(
        self,
        sink: ResponseSink,
        *,
        head_request: bool = False,
        read_until_eof: bool = True,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
    ) -> None:
        self._sink = sink
        # llhttp hands body chunks straight to the sink (no trampoline frame per chunk).
        self.on_body = sink.on_body
        self.head_request = head_request
        self.read_until_eof = read_until_eof
        self.max_line_size = max_line_size
        self.max_field_size = max_field_size
        self.max_headers = max_headers
        self._parser = httptools.HttpResponseParser(self)
        self._informational = 0
        self._reset()

    def _reset(self) -> None:
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._content_length: int | None = None
        self._chunked = False
        self._encoding: bytes | None = None
        self._cookies = False
        self._in_head = False
        self._in_message = False
        self._until_eof = False
        self._fed = 0

    @property
    def informational(self) -> int:
        """How many 1xx responses were skipped so far."""
        return self._informational

    def feed(self, data: bytes) -> None:
        """Parse ``data``; raise :class:`HttpProtocolError` on any violation."""
        if self._in_head or not self._in_message:
            # Bound what llhttp buffers for a head that has not finished yet.
            self._fed += len(data)
            if self._fed > self.max_line_size + self.max_headers * (self.max_field_size + 4):
                raise HeadersTooLarge("Response head is too large")
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            return
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _HeadDone):
                # llhttp is stopped for good after a callback raised: start afresh.
                self._parser = httptools.HttpResponseParser(self)
                return
            if isinstance(cause, HttpProtocolError):
                raise cause from None
            raise BadStatusLine(str(cause)) from cause
        except httptools.HttpParserError as exc:
            message = str(exc.args[0]) if exc.args else "Malformed response"
            if self._in_message and not self._in_head:
                raise PayloadError(message) from None
            raise BadStatusLine(message) from None

    def feed_eof(self) -> bool:
        """The peer closed. Returns True when this completed a body read to EOF."""
        if not self._in_message:
            return False
        if self._in_head:
            raise BadStatusLine("Connection closed in the middle of a response head")
        if self._until_eof:
            self._reset()
            self._sink.on_response_complete()
            return True
        if self._chunked:
            raise PayloadError("Response payload is not completed: chunked body cut short")
        raise PayloadError(
            f"Response payload is not completed: expected {self._content_length} bytes"
        )

    # llhttp callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = True
        self._in_message = True

    def on_status(self, status: bytes) -> None:
        reason = self._reason + status if self._reason else status
        if len(reason) > self.max_line_size:
            raise BadStatusLine(f"Status line is longer than {self.max_line_size} bytes")
        self._reason = reason

    def on_header(self, name: bytes, value: bytes) -> None:
        n = len(name)
        if n + len(value) > self.max_field_size:
            raise HeadersTooLarge(f"Header field is longer than {self.max_field_size} bytes")
        # The number of fields is checked once the head is complete: until then the bytes
        # of the head are bounded by feed().
        self._headers.append((name, value))
        if n in _FRAMING_LENGTHS:
            kind = _FRAMING_NAMES.get(name.lower())
            if kind == 0:
                self._content_length = int(value)
            elif kind == 1:
                self._chunked = b"chunked" in value.lower()
            elif kind == 2:
                self._encoding = value
            elif kind == 3:
                self._cookies = True

    def on_headers_complete(self) -> None:
        if len(self._headers) > self.max_headers:
            raise HeadersTooLarge(f"More than {self.max_headers} header fields")
        parser = self._parser
        status = parser.get_status_code()
        version = _VERSIONS.get(parser.get_http_version())
        if version is None:
            raise BadStatusLine(f"Unsupported HTTP version {parser.get_http_version()}")
        if 100 <= status < 200 and status != 101:
            self._informational += 1
            self._headers = []
            self._reason = b""
            return
        self._in_head = False
        no_body = self.head_request or status in (204, 304) or status == 101
        self._until_eof = not no_body and not self._chunked and self._content_length is None
        # read_until_eof=False: a body without framing is taken to be empty (aiohttp's rule).
        skip = self.head_request or (self._until_eof and not self.read_until_eof)
        if skip:
            no_body = True
        head = ResponseHead(
            status,
            self._reason.decode("latin-1"),
            version,
            self._headers,
            parser.should_keep_alive() and not self._until_eof,
            status == 101,
            self._chunked,
            0 if no_body else self._content_length,
            self._encoding,
            self._cookies,
        )
        self._sink.on_response(head)
        if skip:
            self._reset()
            self._sink.on_response_complete()
            raise _HeadDone

    def on_message_complete(self) -> None:
        if self._in_message and not self._in_head:
            self._reset()
            self._sink.on_response_complete()
        else:
            # The end of a 1xx message: wait for the final response.
            self._in_message = False
            self._in_head = False
            self._fed = 0
