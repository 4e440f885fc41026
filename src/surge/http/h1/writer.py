"""HTTP/1.x serialisation: response heads, chunk framing. Sans-IO, allocation-lean.

Invariants: a header name or value holding CR, LF or NUL is refused (no response splitting);
status lines are cached; the whole head is built with one join.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus

__all__ = [
    "chunk",
    "response_head_prefix",
    "serialize_request_head",
    "serialize_response_head",
    "status_reason",
]

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_STATUS_LINES: dict[tuple[int, str, tuple[int, int]], str] = {}
_FORBIDDEN = frozenset("\r\n\x00")
LAST_CHUNK = b"0\r\n\r\n"


def status_reason(status: int) -> str:
    return _REASONS.get(status, "")


def _status_line(version: tuple[int, int], status: int, reason: str) -> str:
    key = (status, reason, version)
    line = _STATUS_LINES.get(key)
    if line is None:
        if _FORBIDDEN.intersection(reason):
            raise ValueError("Reason phrase must not contain CR, LF or NUL")
        line = f"HTTP/{version[0]}.{version[1]} {status} {reason}\r\n"
        if len(_STATUS_LINES) < 512:
            _STATUS_LINES[key] = line
    return line


def _check(name: str, value: str) -> None:
    if "\n" in value or "\r" in value or "\x00" in value or _FORBIDDEN.intersection(name):
        raise ValueError(f"Header {name!r} contains a forbidden character (CR, LF or NUL)")


def serialize_response_head(
    version: tuple[int, int],
    status: int,
    reason: str,
    headers: Iterable[tuple[str, str]],
    extra: str = "",
) -> bytes:
    """Serialise a status line and header block, ending in the blank line.

    ``extra`` holds already-valid header lines (``"Name: value\r\n"``) added by the writer.
    The joined head is validated once: every line must end in the one CRLF we put there.
    """
    lines = [f"{name}: {value}\r\n" for name, value in headers]
    head = f"{_status_line(version, status, reason)}{''.join(lines)}{extra}\r\n"
    expected = len(lines) + extra.count("\n") + 2
    if head.count("\n") != expected or head.count("\r") != expected or "\x00" in head:
        for name, value in headers:
            _check(name, value)
        raise ValueError("Header block contains a forbidden character (CR, LF or NUL)")
    return head.encode("utf-8")


_PREFIXES: dict[tuple[tuple[int, int], int, str | None, tuple[str, str]], bytes] = {}
_PREFIX_CACHE_SIZE = 1024


def response_head_prefix(
    version: tuple[int, int], status: int, reason: str | None, headers: Mapping[str, str]
) -> bytes:
    """The status line and header lines as bytes, without the final blank line.

    A missing (or empty) ``reason`` is the standard phrase of ``status``. Heads with a single
    header (typically ``Content-Type``) are the common case and are cached, so such a response
    serialises nothing but its framing lines.
    """
    if len(headers) != 1:
        phrase = reason or _REASONS.get(status, "")
        return serialize_response_head(version, status, phrase, headers.items())[:-2]
    for item in headers.items():
        key = (version, status, reason, item)
    prefix = _PREFIXES.get(key)
    if prefix is None:
        phrase = reason or _REASONS.get(status, "")
        prefix = serialize_response_head(version, status, phrase, (item,))[:-2]
        if len(_PREFIXES) < _PREFIX_CACHE_SIZE:
            _PREFIXES[key] = prefix
    return prefix


def serialize_request_head(
    method: str, target: str, headers: Iterable[tuple[str, str]], version: tuple[int, int] = (1, 1)
) -> bytes:
    """Serialise a request line and header block (client side)."""
    if _FORBIDDEN.intersection(method) or " " in method:
        raise ValueError("Method must not contain whitespace, CR, LF or NUL")
    if _FORBIDDEN.intersection(target) or " " in target:
        raise ValueError("Request target must not contain whitespace, CR, LF or NUL")
    parts = [f"{method} {target} HTTP/{version[0]}.{version[1]}\r\n"]
    append = parts.append
    for name, value in headers:
        _check(name, value)
        append(f"{name}: {value}\r\n")
    append("\r\n")
    return "".join(parts).encode("utf-8")


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one chunk of a chunked body (empty data makes no chunk)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)
