"""A body stream that also carries the trailer fields sent after the body (HTTP/2).

Trailers arrive after the last byte of a body, so they travel with the body's stream: the
protocol sets ``trailers`` before it feeds EOF, and ``request.trailers`` (server) or
``response.trailers`` (client) read them from there. Streams that never carry trailers (every
HTTP/1.1 body, a body-less message) answer with the shared empty mapping.
"""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict, CIMultiDictProxy

from surge.net.streams import StreamReader

__all__ = ["NO_TRAILERS", "TrailerStreamReader", "decode_fields"]

NO_TRAILERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def decode_fields(fields: Iterable[tuple[bytes, bytes]]) -> CIMultiDictProxy[str]:
    """Raw ``(name, value)`` pairs as a read-only multidict of str (UTF-8, bytes kept)."""
    return CIMultiDictProxy(
        CIMultiDict(
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
            for name, value in fields
        )
    )


class TrailerStreamReader(StreamReader):
    """A :class:`StreamReader` whose message may end with trailer fields."""

    trailers: CIMultiDictProxy[str] = NO_TRAILERS
