"""Bounded Content-Encoding decoders (sans-IO)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from surge.http.content import codecs
from surge.http.content.codecs import (
    DecompressionError,
    DecompressionLimitError,
    accept_encoding,
    make_decoder,
)

DATA = b"surge " * 20000


def _compress(encoding: str, data: bytes) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data)
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "raw-deflate":
        return zlib.compress(data)[2:-4]
    if encoding == "br":
        import brotli

        return bytes(brotli.compress(data))
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(data))


ENCODINGS = ["gzip", "deflate", "raw-deflate", "br", "zstd"]


def _decoder(encoding: str, max_size: int = codecs.DEFAULT_MAX_DECOMPRESSED_SIZE) -> codecs.Decoder:
    decoder = make_decoder("deflate" if encoding == "raw-deflate" else encoding, max_size)
    assert decoder is not None
    return decoder


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip_in_small_pieces(encoding: str) -> None:
    blob = _compress(encoding, DATA)
    decoder = _decoder(encoding)
    out = b"".join(decoder.decompress(blob[i : i + 7]) for i in range(0, len(blob), 7))
    assert out + decoder.flush() == DATA


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_bomb_is_stopped_at_the_bound(encoding: str) -> None:
    blob = _compress(encoding, b"\0" * 10_000_000)
    decoder = _decoder(encoding, max_size=100_000)
    with pytest.raises(DecompressionLimitError, match="100000"):
        decoder.decompress(blob)
        decoder.flush()


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_garbage_is_a_decompression_error(encoding: str) -> None:
    with pytest.raises(DecompressionError):
        decoder = _decoder(encoding)
        decoder.decompress(b"this is not compressed at all" * 3)
        decoder.flush()


def test_identity_and_unknown_need_no_decoder() -> None:
    assert make_decoder("identity") is None
    assert make_decoder("compress") is None


def test_accept_encoding_lists_installed_codecs() -> None:
    assert accept_encoding() == "gzip, deflate, br, zstd"
