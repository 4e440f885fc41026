"""The zlib-compatible module behind every gzip, deflate and permessage-deflate codec. Sans-IO.

By default it is ``zlib_ng.zlib_ng`` (the ``speedups`` extra; zlib-ng deflates text about five
times faster than zlib at level 1) when importable, else the standard library's ``zlib``.
:func:`set_backend` swaps it for the whole process, as aiohttp's ``set_zlib_backend`` does.

Invariants:
- The backend is resolved once at import and again only on an explicit change. Codecs read
  :data:`backend` when they build a compressor or decompressor (once per stream or connection),
  never per chunk.
- A compressor or decompressor keeps the module it was built with, so a change applies to the
  streams that start after it. Such objects raise their own module's ``error``, which need not
  derive from ``zlib.error``: catch :data:`errors`, which names every backend ever in use.
- Format constants (window bits, flush modes) are zlib's C API values, which every
  zlib-compatible module shares; they are re-exported here so codecs need no other import.
"""

from __future__ import annotations

import zlib as _zlib
from typing import Protocol

__all__ = [
    "DEFLATED",
    "MAX_WBITS",
    "Z_BEST_SPEED",
    "Z_DEFAULT_STRATEGY",
    "Z_FINISH",
    "Z_FULL_FLUSH",
    "Z_SYNC_FLUSH",
    "CompressObj",
    "DecompressObj",
    "ZlibModule",
    "backend",
    "default_backend",
    "errors",
    "set_backend",
]

DEFLATED = _zlib.DEFLATED
MAX_WBITS = _zlib.MAX_WBITS
Z_BEST_SPEED = _zlib.Z_BEST_SPEED
Z_DEFAULT_STRATEGY = _zlib.Z_DEFAULT_STRATEGY
Z_FINISH = _zlib.Z_FINISH
Z_FULL_FLUSH = _zlib.Z_FULL_FLUSH
Z_SYNC_FLUSH = _zlib.Z_SYNC_FLUSH

_Data = bytes | bytearray | memoryview


class CompressObj(Protocol):
    def compress(self, data: _Data, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class DecompressObj(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: _Data, /, max_length: int = ...) -> bytes: ...
    def flush(self, length: int = ..., /) -> bytes: ...


class ZlibModule(Protocol):
    """What surge uses of a zlib-compatible module (``zlib``, ``zlib_ng.zlib_ng``, ...)."""

    @property
    def error(self) -> type[Exception]: ...
    def compressobj(
        self,
        level: int = ...,
        method: int = ...,
        wbits: int = ...,
        memLevel: int = ...,
        strategy: int = ...,
    ) -> CompressObj: ...
    def decompressobj(self, wbits: int = ...) -> DecompressObj: ...


# What set_backend checks: the calls and the exception class the codecs rely on.
_REQUIRED = ("compressobj", "decompressobj", "error")


def default_backend() -> ZlibModule:
    """``zlib_ng.zlib_ng`` when installed, else the standard library's ``zlib``."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return _zlib
    # Its stub declares ``error`` as an instance of Exception; at run time it is the class.
    return zlib_ng  # type: ignore[return-value, unused-ignore]


backend: ZlibModule = default_backend()
errors: tuple[type[Exception], ...] = tuple(dict.fromkeys((_zlib.error, backend.error)))


def set_backend(module: ZlibModule) -> None:
    """Make ``module`` (zlib-compatible) compress and decompress everything started from now.

    Raises TypeError, changing nothing, when ``module`` lacks part of zlib's API surge uses.
    """
    global backend, errors
    missing = [name for name in _REQUIRED if not hasattr(module, name)]
    if missing:
        raise TypeError(f"{module!r} is not zlib-compatible: no {', '.join(missing)}")
    error = module.error
    if not (isinstance(error, type) and issubclass(error, Exception)):
        raise TypeError(f"{module!r} is not zlib-compatible: its error is not an exception")
    errors = tuple(dict.fromkeys((*errors, error)))
    backend = module
