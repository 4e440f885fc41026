"""``aiohttp.cookiejar`` on surge: the same public names, from surge's modules."""

from surge import (
    CookieJar,
    DummyCookieJar,
)

__all__ = [
    "CookieJar",
    "DummyCookieJar",
]
