"""A request body stream decoded from its Content-Encoding as the handler reads it.

Invariants: decoding is pulled by reads (nothing is decoded that no one asked for); the decoded
total never exceeds the decoder's bound and the encoded total never exceeds ``max_encoded``
(a stream of empty gzip members costs input, so it is bounded too); a decoding fault is stored
and raised to every later read, as the error ``on_error`` maps it to.
"""

from __future__ import annotations

from collections.abc import Callable

from surge.http.content.codecs import Decoder, DecompressionError, DecompressionLimitError
from surge.net.streams import StreamReader

__all__ = ["DecodingStreamReader"]


class DecodingStreamReader(StreamReader):
    """Reads ``source`` (the raw body) through ``decoder`` on demand."""

    def __init__(
        self,
        source: StreamReader,
        decoder: Decoder,
        *,
        max_encoded: int,
        on_error: Callable[[DecompressionError, int], BaseException],
        limit: int = 2**16,
    ) -> None:
        super().__init__(None, limit)
        self._source = source
        self._decoder = decoder
        self._max_encoded = max_encoded
        self._on_error = on_error
        self._encoded = 0
        self.total_compressed_bytes = 0

    async def _wait(self) -> None:
        if self._exception is not None:
            raise self._exception
        data = await self._source.readany()
        try:
            if not data:
                tail = self._decoder.flush()
                if tail:
                    self.feed_data(tail)
                self.feed_eof()
                return
            self._encoded += len(data)
            self.total_compressed_bytes = self._encoded
            if self._encoded > self._max_encoded:
                raise DecompressionLimitError(
                    f"Encoded body exceeds the limit of {self._max_encoded} bytes"
                )
            decoded = self._decoder.decompress(data)
        except DecompressionError as exc:
            error = self._on_error(exc, self.total_bytes + self._encoded)
            self.set_exception(error)
            raise error from None
        if decoded:
            self.feed_data(decoded)
