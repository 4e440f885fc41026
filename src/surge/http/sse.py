"""Server-Sent Events (WHATWG HTML, "server-sent events"): encoding and a stream parser.

Invariants:
- Encoding never lets a value break the framing: data is split on CR, LF and CRLF into one
  ``data:`` line each; ``event`` and ``id`` holding a line break (or ``id`` a NUL) are refused.
- Parsing follows the WHATWG algorithm: lines end in CR, LF or CRLF (a CRLF split between two
  reads is still one line end), one leading BOM is dropped, comments are skipped, unknown fields
  ignored, an event without data is not dispatched, an unfinished event at EOF is dropped.
- A line longer than ``max_line_size`` characters is an error, not unbounded memory.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["SSELineTooLong", "SSEParser", "ServerSentEvent", "encode_comment", "encode_event"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event: ``data``, ``event`` type, last event ``id`` and ``retry`` (ms)."""

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSELineTooLong(ValueError):
    """A line of the event stream exceeded the parser's ``max_line_size``."""


def encode_event(
    data: str,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
) -> bytes:
    """One event in wire format, ending with the blank line that dispatches it."""
    lines = []
    if event is not None:
        if "\r" in event or "\n" in event:
            raise ValueError("SSE event name must not contain CR or LF")
        lines.append(f"event: {event}")
    if id is not None:
        if "\r" in id or "\n" in id or "\x00" in id:
            raise ValueError("SSE id must not contain CR, LF or NUL")
        lines.append(f"id: {id}")
    if retry is not None:
        if not isinstance(retry, int) or retry < 0:
            raise TypeError("SSE retry must be a non-negative int (milliseconds)")
        lines.append(f"retry: {retry}")
    for line in _LINE_BREAK.split(data):
        lines.append(f"data: {line}")
    lines.append("\n")
    return "\n".join(lines).encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """A comment (ignored by clients; keeps idle connections alive through proxies)."""
    return "".join(f": {line}\n" for line in _LINE_BREAK.split(text)).encode("utf-8") + b"\n"


class SSEParser:
    """Feeds bytes of an event stream, returns the events each feed completes."""

    __slots__ = (
        "_cr",
        "_data",
        "_decoder",
        "_event",
        "_has_data",
        "_last_id",
        "_partial",
        "_retry",
        "_started",
        "max_line_size",
        "retry",
    )

    def __init__(self, *, max_line_size: int = 2**20, last_event_id: str = "") -> None:
        self.max_line_size = max_line_size
        self._decoder = _Utf8Decoder("replace")
        self._partial = ""
        self._cr = False  # the previous chunk ended in CR: a leading LF is part of that break
        self._started = False
        self._data: list[str] = []
        self._has_data = False
        self._event = ""
        self._last_id = last_event_id
        self._retry: int | None = None
        self.retry: int | None = None  # the latest reconnection time the server asked for

    @property
    def last_event_id(self) -> str:
        return self._last_id

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        text = self._decoder.decode(data)
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._cr and text.startswith("\n"):
            text = text[1:]
        if not text:
            return []
        self._cr = text.endswith("\r")
        lines = _LINE_BREAK.split(text)
        lines[0] = self._partial + lines[0]
        self._partial = lines.pop()
        if len(self._partial) > self.max_line_size:
            raise SSELineTooLong(f"SSE line longer than {self.max_line_size} characters")
        out: list[ServerSentEvent] = []
        for line in lines:
            if len(line) > self.max_line_size:
                raise SSELineTooLong(f"SSE line longer than {self.max_line_size} characters")
            event = self._line(line)
            if event is not None:
                out.append(event)
        return out

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        retry, self._retry = self._retry, None
        if not self._has_data:
            self._event = ""
            return None
        event = ServerSentEvent(
            "\n".join(self._data), self._event or "message", self._last_id, retry
        )
        self._data = []
        self._has_data = False
        self._event = ""
        return event
