"""Protocol errors raised by the sans-IO parsers.

Each error carries the HTTP status a server answers with before closing the connection.
"""

from __future__ import annotations


class HttpProtocolError(Exception):
    """A peer broke the protocol; the connection cannot be trusted any more."""

    status: int = 400
    reason: str = "Bad Request"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.reason)
        self.message = message or self.reason


class BadRequest(HttpProtocolError):
    status = 400
    reason = "Bad Request"


class UriTooLong(HttpProtocolError):
    status = 414
    reason = "URI Too Long"


class HeadersTooLarge(HttpProtocolError):
    status = 431
    reason = "Request Header Fields Too Large"


class PayloadTooLarge(HttpProtocolError):
    status = 413
    reason = "Payload Too Large"


class PipelineOverflow(HttpProtocolError):
    """More pipelined requests arrived at once than the server will queue."""

    status = 503
    reason = "Service Unavailable"


class BadStatusLine(HttpProtocolError):
    """A response's status line could not be parsed (client side)."""


class PayloadError(HttpProtocolError):
    """A message body was truncated or badly framed."""
