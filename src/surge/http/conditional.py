"""Entity tags and conditional-request header parsing (RFC 9110 section 13). Sans-IO."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ETAG_ANY",
    "MAX_RANGES",
    "ETag",
    "RangeNotSatisfiable",
    "etag_matches",
    "evaluate_preconditions",
    "format_etag",
    "parse_byte_ranges",
    "parse_etag",
    "parse_etag_list",
]

ETAG_ANY = "*"
_ETAG_RE = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
_QUOTED_ETAG_CHARS = re.compile(r"^[\x21\x23-\x7e\x80-\xff]*$")


@dataclass(frozen=True, slots=True)
class ETag:
    value: str
    is_weak: bool = False


def parse_etag(raw: str) -> ETag | None:
    match = _ETAG_RE.fullmatch(raw.strip())
    if match is None:
        return None
    return ETag(value=match.group(2), is_weak=bool(match.group(1)))


def format_etag(etag: ETag) -> str:
    if not _QUOTED_ETAG_CHARS.match(etag.value):
        raise ValueError(f"Value {etag.value!r} is not a valid etag")
    return f'{"W/" if etag.is_weak else ""}"{etag.value}"'


def parse_etag_list(raw: str | None) -> tuple[ETag, ...] | None:
    """Parse ``If-Match``/``If-None-Match``; ``*`` gives ``(ETag("*"),)``."""
    if raw is None:
        return None
    if raw.strip() == ETAG_ANY:
        return (ETag(value=ETAG_ANY),)
    return tuple(ETag(value=m.group(2), is_weak=bool(m.group(1))) for m in _ETAG_RE.finditer(raw))


# Preconditions and byte ranges (RFC 9110 sections 13.2 and 14) -------------------------------

# More ranges than this in one request are answered with the whole representation: many tiny
# or overlapping ranges cost the server far more than the bytes they ask for.
MAX_RANGES = 16


def etag_matches(etags: tuple[ETag, ...], etag: ETag, *, weak: bool) -> bool:
    """Whether ``etag`` is in ``etags`` (``*`` matches anything); strong comparison unless ``weak``."""
    for candidate in etags:
        if candidate.value == ETAG_ANY:
            return True
        if candidate.value == etag.value and (weak or not (candidate.is_weak or etag.is_weak)):
            return True
    return False


def evaluate_preconditions(
    *,
    method: str,
    etag: ETag,
    mtime: float,
    if_match: tuple[ETag, ...] | None,
    if_none_match: tuple[ETag, ...] | None,
    if_modified_since: float | None,
    if_unmodified_since: float | None,
) -> int | None:
    """The status the preconditions ask for (412 or 304), or None to send the representation.

    Follows RFC 9110 section 13.2.2's order; ``mtime`` and the dates are POSIX seconds
    (compared at one-second resolution, as HTTP dates have).
    """
    seconds = int(mtime)
    if if_match is not None:
        if not etag_matches(if_match, etag, weak=False):
            return 412
    elif if_unmodified_since is not None and seconds > if_unmodified_since:
        return 412
    if if_none_match is not None:
        if etag_matches(if_none_match, etag, weak=True):
            return 304 if method in ("GET", "HEAD") else 412
    elif (
        if_modified_since is not None and method in ("GET", "HEAD") and seconds <= if_modified_since
    ):
        return 304
    return None


class RangeNotSatisfiable(ValueError):
    """The Range header is valid but no range overlaps the representation (416)."""


def parse_byte_ranges(value: str, size: int) -> list[tuple[int, int]] | None:
    """``Range: bytes=...`` as sorted, merged ``(start, end_exclusive)`` pairs.

    None means "ignore the header, send everything" (not a bytes range, malformed, or more
    than :data:`MAX_RANGES`); :class:`RangeNotSatisfiable` means 416.
    """
    unit, sep, spec = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for part in parts:
        first, dash, last = part.strip().partition("-")
        if not dash:
            return None
        first, last = first.strip(), last.strip()
        if not (first.isdigit() or not first) or not (last.isdigit() or not last):
            return None
        if first:
            start = int(first)
            if last:
                end = int(last) + 1
                if end <= start:
                    return None
            else:
                end = size
            if start >= size:
                continue
            ranges.append((start, min(end, size)))
        elif last:
            suffix = int(last)
            if suffix == 0:
                continue
            ranges.append((max(size - suffix, 0), size))
        else:
            return None
    if not ranges:
        raise RangeNotSatisfiable(value)
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged
