"""``dumps``: ``json.dumps(obj)`` with default settings, through one prepared C encoder call.

``json.dumps`` walks three Python layers (``dumps``, ``encode``, ``iterencode``) per call; for
the small documents a JSON API returns that is a large share of the cost. The output is
byte-for-byte that of ``json.dumps(obj)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any

__all__ = ["dumps"]


def _build() -> Callable[[Any], str]:
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the standard path
        return json.dumps
    default = json.JSONEncoder().default
    encode_string = _encoder.encode_basestring_ascii
    # One encoder for every call: without circular-reference markers (``None``) it keeps no
    # state between calls, so it is safe to share (also between threads). A circular
    # document then ends in RecursionError; json.dumps runs again to raise what it raises
    # (ValueError for a cycle, RecursionError for nesting too deep).
    encode = make(None, default, encode_string, None, ": ", ", ", False, False, True)
    join = "".join

    def dumps(obj: Any) -> str:
        if isinstance(obj, str):
            return encode_string(obj)
        try:
            return join(encode(obj, 0))
        except RecursionError:
            return json.dumps(obj)

    return dumps


dumps: Callable[[Any], str] = _build()
