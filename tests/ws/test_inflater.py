"""permessage-deflate's inflater: sized calls to zlib, the max_size bound, any chunking."""

from __future__ import annotations

import os
import zlib
from typing import Any

import pytest

from surge.http import zlib_backend
from surge.http.ws.deflate import DeflateParams, MessageDeflater, MessageInflater
from surge.http.ws.errors import WSProtocolError

BACKENDS = dict.fromkeys([zlib_backend.backend, zlib])


class Recorder:
    """Wraps a decompressor: what each call asked for and how much it got."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[int, int]] = []  # (max_length, output length)

    @property
    def unconsumed_tail(self) -> bytes:
        return self.inner.unconsumed_tail  # type: ignore[no-any-return]

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out: bytes = self.inner.decompress(data, max_length)
        self.calls.append((max_length, len(out)))
        return out


def inflater(backend: Any, max_size: int) -> tuple[MessageInflater, Recorder]:
    inf = MessageInflater(DeflateParams(), max_size)
    rec = Recorder(backend.decompressobj(-15))
    inf._decomp = rec  # type: ignore[assignment]
    return inf, rec


def deflated(comp: Any, payload: bytes) -> bytes:
    out: bytes = comp.compress(payload) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("max_size", [0, 4 << 20])
def test_messages_of_changing_sizes_inflate_exactly(backend: Any, max_size: int) -> None:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    inf, _ = inflater(backend, max_size)
    sizes = [32, 1 << 20, (1 << 20) + 1, 3 << 20, 10, 0, (1 << 20) - 1, 4 << 20, 200_000]
    for n in sizes:
        payload = os.urandom(n // 2) + b"ab" * (n // 4) + b"z" * (n - n // 2 - 2 * (n // 4))
        assert len(payload) == n
        assert inf.inflate(deflated(comp, payload), end=True) == payload


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda m: m.__name__)
def test_a_repeated_size_is_inflated_in_one_call(backend: Any) -> None:
    # zlib's buffer grows up to what it is asked for: asking for just past the last size
    # keeps a 1 MiB message's buffer from doubling to 2 MiB (a fresh mmap, faulted per page).
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    inf, rec = inflater(backend, 16 << 20)
    payload = b"the quick brown fox jumps over the lazy dog\n" * 25_000
    inf.inflate(deflated(comp, payload), end=True)
    rec.calls.clear()
    for _ in range(3):
        assert inf.inflate(deflated(comp, payload), end=True) == payload
    assert rec.calls == [(len(payload) + 1, len(payload))] * 3


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda m: m.__name__)
def test_a_bomb_is_refused_before_inflating_past_the_limit(backend: Any) -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = deflated(comp, b"\x00" * (64 << 20))
    limit = 1 << 20
    inf, rec = inflater(backend, limit)
    with pytest.raises(WSProtocolError) as info:
        inf.inflate(bomb, end=True)
    assert info.value.code == 1009
    assert sum(got for _, got in rec.calls) == limit + 1  # one byte past the limit, no more


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda m: m.__name__)
def test_exactly_max_size_passes_one_byte_more_fails(backend: Any) -> None:
    limit = 300_000
    for n, ok in ((limit, True), (limit + 1, False)):
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        inf, _ = inflater(backend, limit)
        payload = b"x" * n
        if ok:
            assert inf.inflate(deflated(comp, payload), end=True) == payload
        else:
            with pytest.raises(WSProtocolError) as info:
                inf.inflate(deflated(comp, payload), end=True)
            assert info.value.code == 1009


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda m: m.__name__)
def test_chunked_message_bounded_across_chunks(backend: Any) -> None:
    payload = os.urandom(200) * 10_000  # 2 MB, compresses well
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    wire = deflated(comp, payload)
    pieces = [wire[i : i + 777] for i in range(0, len(wire), 777)]
    inf, _ = inflater(backend, 4 << 20)
    out = [inf.inflate(p, end=i == len(pieces) - 1) for i, p in enumerate(pieces)]
    assert b"".join(out) == payload
    # The same message against a smaller limit fails on the chunk that crosses it.
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    wire = deflated(comp, payload)
    inf, rec = inflater(backend, 1 << 20)
    with pytest.raises(WSProtocolError) as info:
        for i in range(0, len(wire), 777):
            inf.inflate(wire[i : i + 777], end=i + 777 >= len(wire))
    assert info.value.code == 1009
    assert sum(got for _, got in rec.calls) == (1 << 20) + 1


@pytest.mark.parametrize("no_context_takeover", [False, True])
def test_deflater_output_inflates_back(no_context_takeover: bool) -> None:
    params = DeflateParams(local_no_context_takeover=no_context_takeover)
    deflater = MessageDeflater(params)
    inf = MessageInflater(DeflateParams(), 8 << 20)
    for payload in (b"", b"a", os.urandom(1 << 20), b"text " * 300_000, b"", os.urandom(70_000)):
        assert inf.inflate(deflater.compress(payload), end=True) == payload
