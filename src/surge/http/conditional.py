"""Entity tags and conditional-request header parsing (RFC 9110 section 13). Sans-IO."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ETAG_ANY", "ETag", "format_etag", "parse_etag", "parse_etag_list"]

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
