"""Multipart bodies (RFC 2046 / RFC 7578), the sans-IO part: boundaries, part heads, decoding.

Invariants: a part's body ends only at ``CRLF--boundary``; bytes that might begin that
delimiter are held back until enough follow to decide, so a body never loses or gains a byte.
The asyncio-facing readers live in ``surge.net.multipart``.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from urllib.parse import unquote

from multidict import CIMultiDict

from surge.http.content.codecs import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DecompressionError,
    make_decoder,
)
from surge.http.errors import BadRequest, HeadersTooLarge
from surge.http.headers import parse_mimetype_params

__all__ = [
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BoundaryScanner",
    "MultipartError",
    "PartHeaderTooLong",
    "TooManyPartHeaders",
    "content_disposition_filename",
    "decode_content",
    "get_boundary",
    "parse_content_disposition",
    "parse_part_headers",
]

_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class MultipartError(ValueError):
    """A multipart body is malformed (missing boundary, truncated part, bad head)."""


class PartHeaderTooLong(HeadersTooLarge, MultipartError):
    """A part's header line is longer than ``max_field_size``: aiohttp's ``LineTooLong``
    (surge's :class:`HeadersTooLarge`) and a :class:`MultipartError`."""


class TooManyPartHeaders(BadRequest, MultipartError):
    """A part has more than ``max_headers`` header lines: aiohttp's ``BadHttpMessage``
    (surge's :class:`BadRequest`) and a :class:`MultipartError`."""


class BadContentDispositionHeader(RuntimeWarning):
    pass


class BadContentDispositionParam(RuntimeWarning):
    pass


def get_boundary(content_type: str) -> bytes:
    """The boundary of a ``multipart/*`` Content-Type; ``MultipartError`` when absent or bad."""
    mtype, params = parse_mimetype_params(content_type)
    if not mtype.startswith("multipart/"):
        raise MultipartError(f"{mtype!r} is not a multipart content type")
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError("multipart content type without a boundary")
    if len(boundary) > 70:
        raise MultipartError(f"boundary {boundary!r} is too long (RFC 2046 allows 70)")
    return boundary.encode("latin-1")


def parse_part_headers(lines: list[bytes]) -> CIMultiDict[str]:
    """The header block of one part (lines without their CRLF), as a case-insensitive dict."""
    headers: CIMultiDict[str] = CIMultiDict()
    for raw in lines:
        if raw[:1] in (b" ", b"\t") and headers:
            raise MultipartError("obsolete line folding in a part header")
        name, sep, value = raw.partition(b":")
        name = name.strip()
        if not sep or not name or not _TOKEN_RE.match(name.decode("latin-1")):
            raise MultipartError(f"invalid part header line {raw[:60]!r}")
        headers.add(name.decode("latin-1"), value.strip().decode("utf-8", "surrogateescape"))
    return headers


def _split_params(rest: str) -> list[str]:
    """Split ``; a=b; c="d;e"`` on semicolons outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in rest:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            current.append(ch)
            escaped = True
        elif ch == '"':
            current.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """``'form-data; name="f"; filename="a.txt"'`` -> ``('form-data', {...})``.

    Extended ``filename*=UTF-8''...`` values (RFC 5987) are decoded; a malformed header
    gives ``(None, {})``.
    """
    if not header:
        return None, {}
    dtype, _, rest = header.partition(";")
    dtype = dtype.strip().lower()
    if not _TOKEN_RE.match(dtype):
        return None, {}
    params: dict[str, str] = {}
    for part in _split_params(rest):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or not key:
            return None, {}
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif key.endswith("*"):
            charset, _, rest_value = value.partition("'")
            _lang, _, encoded = rest_value.partition("'")
            try:
                value = unquote(encoded, charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                return None, {}
        params[key] = value
    return dtype, params


def content_disposition_filename(params: dict[str, str], name: str = "filename") -> str | None:
    """The (extended) parameter ``name`` of a parsed Content-Disposition, preferring ``name*``."""
    if not params:
        return None
    if f"{name}*" in params:
        return params[f"{name}*"]
    return params.get(name)


def decode_content(
    data: bytes,
    transfer_encoding: str | None,
    encoding: str | None,
    max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
) -> bytes:
    """Undo a part's Content-Transfer-Encoding, then its Content-Encoding (decoded size at
    most ``max_size``)."""
    cte = (transfer_encoding or "").strip().lower()
    if cte == "base64":
        try:
            data = base64.b64decode(data)
        except binascii.Error as exc:
            raise MultipartError(f"invalid base64 part: {exc}") from None
    elif cte == "quoted-printable":
        data = quopri.decodestring(data)
    elif cte not in ("", "binary", "8bit", "7bit"):
        raise MultipartError(f"unknown Content-Transfer-Encoding {cte!r}")
    ce = (encoding or "").strip().lower()
    if ce in ("", "identity"):
        return data
    decoder = make_decoder(ce, max_size)
    if decoder is None:
        raise MultipartError(f"unknown Content-Encoding {ce!r}")
    try:
        return decoder.decompress(data) + decoder.flush()
    except DecompressionError as exc:
        raise MultipartError(f"invalid {ce} part: {exc}") from None


class BoundaryScanner:
    """Find the end of one part's body in a stream of bytes.

    ``feed(data)`` returns ``(body, done, rest)``: body bytes certainly before the delimiter,
    whether the delimiter ``CRLF--boundary`` was found, and (when found) the bytes after it.
    """

    __slots__ = ("_delimiter", "_held")

    def __init__(self, boundary: bytes) -> None:
        self._delimiter = b"\r\n--" + boundary
        self._held = b""

    @property
    def held(self) -> bytes:
        return self._held

    def feed(self, data: bytes) -> tuple[bytes, bool, bytes]:
        buf = self._held + data if self._held else data
        delimiter = self._delimiter
        pos = buf.find(delimiter)
        if pos >= 0:
            self._held = b""
            return buf[:pos], True, buf[pos + len(delimiter) :]
        # Keep back a tail that could be the start of the delimiter.
        start = max(0, len(buf) - len(delimiter) + 1)
        cr = buf.find(b"\r", start)
        while cr >= 0 and not delimiter.startswith(buf[cr:]):
            cr = buf.find(b"\r", cr + 1)
        if cr >= 0:
            self._held = buf[cr:]
            return buf[:cr], False, b""
        self._held = b""
        return buf, False, b""
