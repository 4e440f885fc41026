"""Content-Encoding decoders (gzip, deflate, br, zstd) with a bound on the decoded size. Sans-IO.

Invariants: a decoder never returns more than ``max_size`` bytes in total; past the bound it
raises :class:`DecompressionLimitError` instead (a zip bomb ends in a clear error, not an
out-of-memory kill). zlib-based codecs decode at most the remaining budget per call, so the
bound holds for memory too; brotli and zstd check after each input chunk.
"""

from __future__ import annotations

from typing import Any, Protocol

from surge.http import zlib_backend
from surge.http.zlib_backend import MAX_WBITS

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "Decoder",
    "DecompressionError",
    "DecompressionLimitError",
    "accept_encoding",
    "make_decoder",
    "supported_encodings",
]

DEFAULT_MAX_DECOMPRESSED_SIZE = 1 << 30  # 1 GiB

_brotli: Any = None
_zstd: Any = None
try:
    import brotli
except ImportError:  # pragma: no cover - optional speedup
    pass
else:
    _brotli = brotli
try:
    import zstandard
except ImportError:  # pragma: no cover - optional speedup
    pass
else:
    _zstd = zstandard


class DecompressionError(ValueError):
    """The body is not valid data for its Content-Encoding."""


class DecompressionLimitError(DecompressionError):
    """The decoded body would exceed the configured bound."""


class Decoder(Protocol):
    def decompress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Budget:
    __slots__ = ("max_size", "produced")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.produced = 0

    def take(self, data: bytes) -> bytes:
        self.produced += len(data)
        if self.produced > self.max_size:
            raise DecompressionLimitError(
                f"Decompressed body exceeds the limit of {self.max_size} bytes"
            )
        return data


class _ZlibDecoder(_Budget):
    """gzip (every member of a multi-member stream) or deflate (zlib-wrapped or raw).

    Input is fed through a memoryview in steps that restart small after each gzip member:
    zlib copies the unused input at a member's end, so feeding it whole would make a stream of
    many tiny members cost quadratic time.
    """

    __slots__ = ("_gzip", "_obj", "_raw_fallback", "_started", "_step", "_wbits")

    def __init__(self, wbits: int, max_size: int) -> None:
        super().__init__(max_size)
        self._wbits = wbits
        self._gzip = wbits > MAX_WBITS
        self._obj: zlib_backend.DecompressObj = zlib_backend.backend.decompressobj(wbits)
        # "deflate" is meant to be zlib-wrapped, but servers send raw deflate too.
        self._raw_fallback = wbits == MAX_WBITS
        self._started = False
        self._step = _MAX_STEP

    def decompress(self, data: bytes) -> bytes:
        if not self._started:
            self._started = True
            if self._raw_fallback and data and (data[0] & 0x0F) != 8:
                self._obj = zlib_backend.backend.decompressobj(-MAX_WBITS)
        out: list[bytes] = []
        view = memoryview(data)
        pos, end = 0, len(data)
        try:
            while pos < end:
                obj = self._obj
                if obj.eof:
                    if not self._gzip:
                        break  # data after a deflate stream is ignored
                    self._obj = obj = zlib_backend.backend.decompressobj(self._wbits)
                    self._step = _MIN_STEP
                step = self._step
                piece_in = view[pos : pos + step]
                room = self.max_size - self.produced + 1
                out.append(self.take(obj.decompress(piece_in, room)))
                pos += len(piece_in) - len(obj.unconsumed_tail) - len(obj.unused_data)
                if step < _MAX_STEP and not obj.eof:
                    self._step = step * 2
        except zlib_backend.errors as exc:
            raise DecompressionError(f"Can not decode content-encoding: {exc}") from None
        return b"".join(out)

    def flush(self) -> bytes:
        try:
            return self.take(self._obj.flush())
        except zlib_backend.errors as exc:
            raise DecompressionError(f"Can not decode content-encoding: {exc}") from None


_MIN_STEP = 512
_MAX_STEP = 1 << 18


class _BrotliDecoder(_Budget):
    __slots__ = ("_obj",)

    def __init__(self, max_size: int) -> None:
        super().__init__(max_size)
        assert _brotli is not None
        self._obj: Any = _brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        try:
            return self.take(self._obj.process(data))
        except _brotli.error as exc:
            raise DecompressionError(f"Can not decode content-encoding: {exc}") from None

    def flush(self) -> bytes:
        return b""


class _ZstdDecoder(_Budget):
    __slots__ = ("_obj",)

    def __init__(self, max_size: int) -> None:
        super().__init__(max_size)
        assert _zstd is not None
        self._obj: Any = _zstd.ZstdDecompressor(max_window_size=1 << 27).decompressobj()

    def decompress(self, data: bytes) -> bytes:
        try:
            return self.take(self._obj.decompress(data))
        except _zstd.ZstdError as exc:
            raise DecompressionError(f"Can not decode content-encoding: {exc}") from None

    def flush(self) -> bytes:
        return b""


def supported_encodings() -> tuple[str, ...]:
    """The content codings this installation can decode."""
    names = ["gzip", "deflate"]
    if _brotli is not None:
        names.append("br")
    if _zstd is not None:
        names.append("zstd")
    return tuple(names)


def accept_encoding() -> str:
    """The ``Accept-Encoding`` value a client sends by default."""
    return ", ".join(supported_encodings())


def make_decoder(encoding: str, max_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE) -> Decoder | None:
    """A decoder for ``encoding`` (a Content-Encoding value); None for identity/unknown."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return _ZlibDecoder(16 + MAX_WBITS, max_size)
    if encoding == "deflate":
        return _ZlibDecoder(MAX_WBITS, max_size)
    if encoding == "br" and _brotli is not None:
        return _BrotliDecoder(max_size)
    if encoding == "zstd" and _zstd is not None:
        return _ZstdDecoder(max_size)
    return None
