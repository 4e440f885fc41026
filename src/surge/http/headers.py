"""Parsing of structured header values: media types, Forwarded, Range. Sans-IO."""

from __future__ import annotations

import re

__all__ = ["parse_forwarded", "parse_mimetype_params", "parse_range", "raw_header"]

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_FORWARDED_PAIR = re.compile(rf"\s*({_TOKEN})=({_TOKEN}|{_QUOTED})\s*")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_mimetype_params(raw: str) -> tuple[str, dict[str, str]]:
    """``'text/html; charset=UTF-8'`` -> ``('text/html', {'charset': 'UTF-8'})``.

    The media type is lower-cased; a ``charset`` value too (it is case-insensitive).
    """
    mtype, _, rest = raw.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not key or not sep:
            continue
        value = _unquote(value.strip())
        params[key] = value.lower() if key == "charset" else value
    return mtype.strip().lower(), params


def parse_forwarded(values: list[str]) -> list[dict[str, str]]:
    """Parse ``Forwarded`` header values (RFC 7239) into one dict per element."""
    elements: list[dict[str, str]] = []
    for value in values:
        for element in value.split(","):
            pairs: dict[str, str] = {}
            for part in element.split(";"):
                match = _FORWARDED_PAIR.fullmatch(part)
                if match is not None:
                    pairs.setdefault(match.group(1).lower(), _unquote(match.group(2)))
            elements.append(pairs)
    return elements


def parse_range(raw: str | None) -> slice:
    """A single ``bytes=`` range as a slice; ``ValueError`` when malformed."""
    if raw is None:
        return slice(None, None, 1)
    match = _RANGE.match(raw.strip())
    if match is None:
        raise ValueError("range not in acceptable format")
    start_s, end_s = match.groups()
    start = int(start_s) if start_s else None
    end = int(end_s) if end_s else None
    if start is None and end is not None:
        return slice(-end, None, 1)  # suffix range: the last ``end`` bytes
    if start is not None and end is not None:
        if start > end:
            raise ValueError("start cannot be after end")
        end += 1
    return slice(start, end, 1)


def raw_header(headers: list[tuple[bytes, bytes]], lowered_name: bytes) -> str | None:
    """The first value of a header from raw ``(name, value)`` pairs, so that hot paths need
    not build a headers mapping. ``lowered_name`` is the lower-case name."""
    size = len(lowered_name)
    for name, value in headers:
        if len(name) == size and name.lower() == lowered_name:
            return value.decode("latin-1")
    return None
