"""Memoised HPACK coding gives exactly what hpack gives, whatever the table does meanwhile."""

from __future__ import annotations

import random

import hpack

from surge.http.h2.hpack_memo import MemoDecoder, MemoEncoder

POOL = [
    [(b":method", b"GET"), (b":path", b"/"), (b"user-agent", b"a")],
    [(b":method", b"GET"), (b":path", b"/b"), (b"x-n", b"1")],
    [(b":method", b"POST"), (b":path", b"/c"), (b"x-long", b"v" * 40)],
    [(b":status", b"200"), (b"date", b"Tue, 24 Nov 2026 03:00:00 GMT")],
    [(b":status", b"200"), (b"date", b"Tue, 24 Nov 2026 03:00:01 GMT")],
]


def _sequence(seed: int, n: int = 400) -> list[list[tuple[bytes, bytes]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        headers = list(rng.choice(POOL))
        if rng.random() < 0.1:
            headers.append((b"x-fresh", str(rng.random()).encode()))  # inserts, evicts
        out.append(headers)
    return out


def test_memo_decoder_matches_hpack_through_inserts_and_evictions() -> None:
    for seed in range(5):
        encoder = hpack.Encoder()
        encoder.header_table_size = 256  # small: entries get evicted, indices shift
        plain = hpack.Decoder()
        memo = MemoDecoder(hpack.Decoder())
        for value in (plain, memo):
            value.header_table_size = 256
        hits = 0
        for i, headers in enumerate(_sequence(seed)):
            if i == 200:
                encoder.header_table_size = 128  # a size update inside the block
            block = encoder.encode(headers)
            expected = list(plain.decode(block, raw=True))
            hits += block in memo._memo
            got = memo.decode(block, raw=True)
            assert got == expected == headers
        assert hits > 20  # the memo was actually used


def test_memo_encoder_is_byte_identical_to_hpack() -> None:
    """Same blocks as hpack's own encoder fed the same lists (never-indexed fields and table
    size changes included), and they decode to the input."""
    for seed in range(5):
        memo = MemoEncoder(hpack.Encoder())
        plain = hpack.Encoder()
        decoder = hpack.Decoder()
        hits = 0
        for i, headers in enumerate(_sequence(seed)):
            if i in (100, 250):
                for encoder in (memo, plain):
                    encoder.header_table_size = 64 if i == 100 else 4096
            if i % 7 == 0:
                headers = [*headers, hpack.NeverIndexedHeaderTuple(b"authorization", b"s")]
            hits += tuple(headers) in memo._memo
            block = memo.encode(headers)
            assert block == plain.encode(headers)
            assert list(decoder.decode(block, raw=True)) == [tuple(h) for h in headers]
        assert hits > 30


def test_memo_is_bounded() -> None:
    encoder = hpack.Encoder()
    memo = MemoDecoder(hpack.Decoder())
    many = [(b"x-%d" % i, b"") for i in range(100)]  # more fields than a memo entry takes
    for _ in range(2):
        assert memo.decode(encoder.encode(many), raw=True) == many
    assert not memo._memo
    for i in range(40):
        headers = [(b":path", b"/%d" % i)]
        block = encoder.encode(headers)  # a literal; as an index reference the second time
        for _ in range(2):
            assert memo.decode(block, raw=True) == headers
            block = encoder.encode(headers)
        assert len(memo._memo) <= 16
