"""Cookies on the wire: lenient ``Cookie`` header parsing and ``Set-Cookie`` morsels. Sans-IO.

A client's ``Cookie`` header is parsed pair by pair so one malformed pair drops only itself
(``http.cookies.SimpleCookie.load`` drops everything after it).
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import Morsel, SimpleCookie
from typing import Any

__all__ = [
    "CookieMorsel",
    "make_morsel",
    "parse_cookie_header",
    "parse_set_cookie",
    "parse_set_cookie_headers",
]

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_QUOTER = SimpleCookie()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        # SimpleCookie's decoding of \ooo and \" escapes, applied to one value.
        return _QUOTER.value_decode(value)[0]
    return value


def parse_cookie_header(values: Iterable[str]) -> dict[str, str]:
    """``['a=1; b="x y"']`` -> ``{'a': '1', 'b': 'x y'}``; the first of duplicate names wins."""
    cookies: dict[str, str] = {}
    for header in values:
        for pair in header.split(";"):
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name or not _TOKEN_CHARS.issuperset(name):
                continue
            cookies.setdefault(name, _unquote(value.strip()))
    return cookies


class CookieMorsel(Morsel[str]):
    """A ``Morsel`` that also knows the ``Partitioned`` attribute (CHIPS), on any Python."""

    _reserved = {**Morsel._reserved, "partitioned": "Partitioned"}  # type: ignore[attr-defined]
    _flags = {*Morsel._flags, "partitioned"}  # type: ignore[attr-defined]


def make_morsel(name: str, value: str, attributes: dict[str, Any]) -> CookieMorsel:
    """A morsel for ``name=value`` with its value quoted as needed and ``attributes`` set."""
    morsel = CookieMorsel()
    morsel.set(name, value, _QUOTER.value_encode(value)[1])
    for key, attr in attributes.items():
        if attr is not None and attr is not False:
            morsel[key] = attr
    return morsel


_SET_COOKIE_ATTRS = frozenset({"expires", "max-age", "domain", "path", "samesite", "comment"})
_SET_COOKIE_FLAGS = frozenset({"secure", "httponly", "partitioned"})


def parse_set_cookie(header: str) -> CookieMorsel | None:
    """One ``Set-Cookie`` value -> a morsel, or None when it has no valid ``name=value``.

    Lenient like browsers (RFC 6265 5.2): unknown attributes are ignored, a bad attribute
    drops only itself, and ``Expires`` may contain commas.
    """
    pair, _, attrs = header.partition(";")
    name, sep, value = pair.partition("=")
    name = name.strip()
    if not sep or not name or not _TOKEN_CHARS.issuperset(name):
        return None
    raw = value.strip()
    morsel = CookieMorsel()
    morsel.set(name, _unquote(raw), raw)
    for attr in attrs.split(";"):
        key, has_value, attr_value = attr.partition("=")
        key = key.strip().lower()
        if key in _SET_COOKIE_FLAGS:
            morsel[key] = True
        elif has_value and key in _SET_COOKIE_ATTRS:
            morsel[key] = attr_value.strip()
    return morsel


def parse_set_cookie_headers(headers: Iterable[str]) -> list[tuple[str, CookieMorsel]]:
    """``(name, morsel)`` for every valid ``Set-Cookie`` value, in order (names may repeat)."""
    out: list[tuple[str, CookieMorsel]] = []
    for header in headers:
        morsel = parse_set_cookie(header)
        if morsel is not None:
            out.append((morsel.key, morsel))
    return out
