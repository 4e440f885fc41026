"""Memoised HPACK coding: a repeated header block is coded once while the dynamic table stands.

A peer that repeats a request (and a server that repeats a response) sends, after the first
time, a header block made only of references into the tables. Coding such a block is a pure
function of the block (or the header list) and the dynamic table, so its result can be reused
for as long as the table is unchanged.

Invariants:
- A memo entry is only made by a coding that left the dynamic table exactly as it found it
  (same size, same newest entry, same maximum); any coding that changes the table empties the
  memo, so no entry outlives the table state it was made under.
- The memo is small and bounded (entries, block size, fields per entry): a peer cannot make
  it grow.
- Everything else (size limits, errors, table-size updates) is hpack's own code path: a memo
  hit returns exactly what hpack returned for the same input before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hpack import Decoder, Encoder
from hpack.table import HeaderTable

__all__ = ["MemoDecoder", "MemoEncoder"]

# Bounds that keep a peer from making the memo hold much: a few entries, each from a short
# block with few fields (a 512-byte block of one-byte references could otherwise stand for
# hundreds of header tuples).
_MAX_ENTRIES = 16
_MAX_BLOCK = 512
_MAX_FIELDS = 64
_PLAIN = frozenset({tuple})  # the field kinds a memoised list may hold


def _table_state(table: HeaderTable) -> tuple[int, int, object]:
    entries = table.dynamic_entries
    return (table.maxsize, len(entries), entries[0] if entries else None)


def _same(a: tuple[int, int, object], b: tuple[int, int, object]) -> bool:
    return a[0] == b[0] and a[1] == b[1] and a[2] is b[2]


class MemoDecoder:
    """``hpack.Decoder`` with a memo of the blocks that did not touch its dynamic table."""

    __slots__ = ("_decoder", "_memo")

    def __init__(self, decoder: Decoder) -> None:
        self._decoder = decoder
        self._memo: dict[bytes, list[Any]] = {}

    @property
    def header_table(self) -> HeaderTable:
        return self._decoder.header_table

    @property
    def max_header_list_size(self) -> int:
        return self._decoder.max_header_list_size

    @max_header_list_size.setter
    def max_header_list_size(self, value: int) -> None:
        self._memo.clear()  # a smaller limit must be checked again
        self._decoder.max_header_list_size = value

    @property
    def max_allowed_table_size(self) -> int:
        return self._decoder.max_allowed_table_size

    @max_allowed_table_size.setter
    def max_allowed_table_size(self, value: int) -> None:
        self._memo.clear()
        self._decoder.max_allowed_table_size = value

    @property
    def header_table_size(self) -> int:
        return self._decoder.header_table_size

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        self._memo.clear()
        self._decoder.header_table_size = value

    def decode(self, data: bytes, raw: bool = False) -> list[Any]:
        memo = self._memo
        hit = memo.get(data) if type(data) is bytes and raw else None
        if hit is not None:
            return list(hit)
        table = self._decoder.header_table
        before = _table_state(table)
        headers = list(self._decoder.decode(data, raw))
        if not _same(before, _table_state(table)):
            memo.clear()
        elif (
            raw and type(data) is bytes and len(data) <= _MAX_BLOCK and len(headers) <= _MAX_FIELDS
        ):
            if len(memo) >= _MAX_ENTRIES:
                memo.clear()
            memo[data] = headers.copy()
        return headers


class MemoEncoder:
    """``hpack.Encoder`` with a memo of the header lists whose coding did not touch its table.

    Only lists of plain ``(name, value)`` tuples are memoised; lists holding hpack's
    ``HeaderTuple`` kinds (never-indexed fields) always go through hpack.
    """

    __slots__ = ("_encoder", "_memo")

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._memo: dict[tuple[Any, ...], bytes] = {}

    @property
    def header_table(self) -> HeaderTable:
        return self._encoder.header_table

    @property
    def header_table_size(self) -> int:
        return self._encoder.header_table_size

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        self._memo.clear()  # a pending size update must go out with the next block
        self._encoder.header_table_size = value

    def encode(self, headers: Iterable[Any], huffman: bool = True) -> bytes:
        fields = tuple(headers)
        # hpack's HeaderTuple kinds (never-indexed fields) compare equal to plain tuples: lists
        # holding them are neither looked up nor memoised, but still watched for table changes.
        key = fields if huffman and _PLAIN.issuperset(map(type, fields)) else None
        memo = self._memo
        if key is not None:
            hit = memo.get(key)
            if hit is not None:
                return hit
        encoder = self._encoder
        resized = bool(encoder.table_size_changes)  # the block will carry a size update
        before = _table_state(encoder.header_table)
        block = encoder.encode(fields, huffman)
        if resized or not _same(before, _table_state(encoder.header_table)):
            memo.clear()
        elif key is not None and len(block) <= _MAX_BLOCK and len(key) <= _MAX_FIELDS:
            if len(memo) >= _MAX_ENTRIES:
                memo.clear()
            memo[key] = block
        return block
