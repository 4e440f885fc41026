"""Response compression: Accept-Encoding negotiation and incremental compressors. Sans-IO.

Invariants: negotiation honours q-values (``q=0`` refuses a coding, ``identity;q=0`` is
ignored rather than answered with 406); among equally acceptable codings the server's order
wins (br, zstd, gzip, deflate). A compressor's ``compress`` may return ``b""`` (data held for a
better ratio); ``flush`` releases everything so far (one streaming write stays one chunk on the
wire) and ``finish`` ends the stream.
"""

from __future__ import annotations

from typing import Any, Protocol

from surge.http import zlib_backend
from surge.http.zlib_backend import MAX_WBITS, Z_FINISH, Z_SYNC_FLUSH

__all__ = [
    "COMPRESSION_MIN_SIZE",
    "Compressor",
    "available_codings",
    "choose_coding",
    "is_compressible",
    "make_compressor",
    "parse_accept_encoding",
]

# Bodies smaller than this are sent as they are: the saving is below a packet's worth and the
# cost is not.
COMPRESSION_MIN_SIZE = 1024

_brotli: Any = None
_zstd: Any = None
try:
    import brotli
except ImportError:  # pragma: no cover - optional
    pass
else:
    _brotli = brotli
try:
    import zstandard
except ImportError:  # pragma: no cover - optional
    pass
else:
    _zstd = zstandard

# Levels chosen for dynamic content: most of the ratio for a fraction of the CPU of the maxima.
_GZIP_LEVEL = 6
_BROTLI_QUALITY = 4
_ZSTD_LEVEL = 3

_COMPRESSIBLE_PREFIXES = ("text/",)
_COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/ld+json",
        "application/manifest+json",
        "application/graphql-response+json",
        "application/problem+json",
        "application/wasm",
        "application/x-ndjson",
        "application/vnd.api+json",
        "application/x-www-form-urlencoded",
        "image/svg+xml",
        "image/bmp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "font/ttf",
        "font/otf",
        "application/vnd.ms-fontobject",
    }
)


def available_codings() -> tuple[str, ...]:
    """The codings this installation can produce, in the server's order of preference."""
    names: list[str] = []
    if _brotli is not None:
        names.append("br")
    if _zstd is not None:
        names.append("zstd")
    names += ["gzip", "deflate"]
    return tuple(names)


_AVAILABLE = available_codings()


def is_compressible(content_type: str) -> bool:
    """Whether a media type (parameters allowed) is worth compressing: text, JSON, XML, SVG...

    Event streams are excluded: compressing them would delay events behind the compressor.
    """
    mime = content_type.partition(";")[0].strip().lower()
    if mime == "text/event-stream":
        return False
    if mime.startswith(_COMPRESSIBLE_PREFIXES) or mime in _COMPRESSIBLE_TYPES:
        return True
    return mime.endswith(("+json", "+xml"))


def parse_accept_encoding(value: str) -> dict[str, float]:
    """``Accept-Encoding`` as ``{coding: q}``; malformed q-values count as 0 (not acceptable)."""
    result: dict[str, float] = {}
    for item in value.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            key, eq, val = param.partition("=")
            if eq and key.strip().lower() == "q":
                try:
                    q = float(val.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        if coding not in result or q > result[coding]:
            result[coding] = q
    return result


def choose_coding(accept_encoding: str | None, offered: tuple[str, ...] = _AVAILABLE) -> str | None:
    """The best coding of ``offered`` the client accepts, or None to send identity.

    ``x-gzip`` counts as ``gzip``; ``*`` covers codings not named.
    """
    if not accept_encoding:
        return None
    accepted = parse_accept_encoding(accept_encoding)
    if "x-gzip" in accepted and "gzip" not in accepted:
        accepted["gzip"] = accepted["x-gzip"]
    star = accepted.get("*")
    best: str | None = None
    best_q = 0.0
    for coding in offered:
        q = accepted.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    return best


class Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _ZlibCompressor:
    __slots__ = ("_obj",)

    def __init__(self, wbits: int, level: int | None, strategy: int | None) -> None:
        self._obj = zlib_backend.backend.compressobj(
            _GZIP_LEVEL if level is None else level,
            zlib_backend.DEFLATED,
            wbits,
            8,
            zlib_backend.Z_DEFAULT_STRATEGY if strategy is None else strategy,
        )

    def compress(self, data: bytes) -> bytes:
        return self._obj.compress(data)

    def flush(self) -> bytes:
        return self._obj.flush(Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._obj.flush(Z_FINISH)


class _BrotliCompressor:
    __slots__ = ("_obj",)

    def __init__(self, level: int | None) -> None:
        self._obj: Any = _brotli.Compressor(quality=_BROTLI_QUALITY if level is None else level)

    def compress(self, data: bytes) -> bytes:
        return self._obj.process(data)  # type: ignore[no-any-return]

    def flush(self) -> bytes:
        return self._obj.flush()  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self._obj.finish()  # type: ignore[no-any-return]


class _ZstdCompressor:
    __slots__ = ("_obj",)

    def __init__(self, level: int | None) -> None:
        cctx = _zstd.ZstdCompressor(level=_ZSTD_LEVEL if level is None else level)
        self._obj: Any = cctx.compressobj()

    def compress(self, data: bytes) -> bytes:
        return self._obj.compress(data)  # type: ignore[no-any-return]

    def flush(self) -> bytes:
        return self._obj.flush(_zstd.COMPRESSOBJ_FLUSH_BLOCK)  # type: ignore[no-any-return]

    def finish(self) -> bytes:
        return self._obj.flush(_zstd.COMPRESSOBJ_FLUSH_FINISH)  # type: ignore[no-any-return]


def make_compressor(
    coding: str, *, level: int | None = None, strategy: int | None = None
) -> Compressor:
    """A compressor for ``coding`` (``gzip``, ``deflate``, ``br`` or ``zstd``).

    ``deflate`` is the zlib-wrapped format RFC 9110 names; ``strategy`` is zlib's (for gzip
    and deflate only). Raises ValueError for a coding this installation cannot produce.
    """
    if coding == "gzip":
        return _ZlibCompressor(16 + MAX_WBITS, level, strategy)
    if coding == "deflate":
        return _ZlibCompressor(MAX_WBITS, level, strategy)
    if coding == "br" and _brotli is not None:
        return _BrotliCompressor(level)
    if coding == "zstd" and _zstd is not None:
        return _ZstdCompressor(level)
    raise ValueError(f"Unsupported content coding: {coding!r}")
