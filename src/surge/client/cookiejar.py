"""Client cookie storage (RFC 6265): domain, path, secure, expiry and host-only rules.

Invariants: cookies for IP-address hosts are kept only with ``unsafe=True``; a cookie whose
Domain does not domain-match the setting host is dropped; a cookie without Domain goes back
only to the exact host (host-only); expired cookies are never sent.
"""

from __future__ import annotations

import calendar
import ipaddress
import pickle
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from pathlib import Path
from types import MappingProxyType
from typing import Any

from yarl import URL

from surge.http.cookies import parse_set_cookie_headers

__all__ = ["AbstractCookieJar", "CookieJar", "DummyCookieJar"]

# 9999-12-31T23:59:59Z: later expiry dates are clamped to it (and it stands for "never").
_MAX_TIME = 253402300799
_NO_URL = URL()
_NO_COOKIES: Mapping[tuple[str, str], SimpleCookie] = MappingProxyType({})


def _is_ip(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _domain_match(host: str, domain: str) -> bool:
    return host == domain or (host.endswith("." + domain) and not _is_ip(host))


def _path_match(req_path: str, cookie_path: str) -> bool:
    if req_path == cookie_path:
        return True
    if not req_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or req_path[len(cookie_path)] == "/"


def _default_path(url: URL) -> str:
    path = url.raw_path
    if not path.startswith("/") or path.count("/") <= 1:
        return "/"
    return path[: path.rfind("/")]


# RFC 6265 5.1.1: the delimiters between the tokens of a cookie date, and the token kinds.
_DATE_TOKENS = re.compile(r"[\x09\x20-\x2F\x3B-\x40\x5B-\x60\x7B-\x7E]+")
_DATE_HMS = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?", re.S)
_DATE_DAY = re.compile(r"(\d{1,2})(?:\D.*)?", re.S)
_DATE_MONTH = re.compile(r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec).*", re.I | re.S)
_DATE_YEAR = re.compile(r"(\d{2,4})(?:\D.*)?", re.S)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _parse_date(value: str) -> int | None:
    """An RFC 6265 cookie date -> POSIX time, or None."""
    hms = day = month = year = None
    for token in _DATE_TOKENS.split(value):
        if not token:
            continue
        if hms is None and (m := _DATE_HMS.fullmatch(token)):
            hms = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DATE_DAY.fullmatch(token)):
            day = int(m[1])
        elif month is None and (m := _DATE_MONTH.fullmatch(token)):
            month = _MONTHS[m[1].lower()]
        elif year is None and (m := _DATE_YEAR.fullmatch(token)):
            year = int(m[1])
    if None in (hms, day, month, year):
        return None
    assert hms is not None and year is not None and day is not None and month is not None
    if 70 <= year <= 99:
        year += 1900
    elif year <= 69:
        year += 2000
    if year < 1601 or not 1 <= day <= 31 or hms[0] > 23 or hms[1] > 59 or hms[2] > 59:
        return None
    try:
        return calendar.timegm((year, month, day, *hms, 0, 0, 0))
    except (ValueError, OverflowError):
        return None


class AbstractCookieJar:
    """The interface sessions use: ``update_cookies``, ``filter_cookies``, ``clear``."""

    def update_cookies(self, cookies: Any, response_url: URL = _NO_URL) -> None:
        raise NotImplementedError

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        raise NotImplementedError

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values (one per header line) that
        ``response_url`` sent; same-named cookies of different paths or domains all count."""
        cookies = parse_set_cookie_headers(headers)
        if cookies:
            self.update_cookies(cookies, response_url)

    def clear(self, predicate: Any = None) -> None:
        raise NotImplementedError

    def clear_domain(self, domain: str) -> None:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Morsel[str]]:
        raise NotImplementedError

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def quote_cookie(self) -> bool:
        return True


class CookieJar(AbstractCookieJar):
    """Keeps the cookies servers set and sends them back where they belong.

    ``unsafe=True`` accepts cookies from IP-address hosts; ``treat_as_secure_origin`` (one
    origin or several) lists origins that count as secure though plain http (e.g.
    ``http://localhost``), so ``Secure`` cookies are sent there too.
    """

    # The RFC 6265 5.1.1 cookie-date grammar: delimiters, then the four kinds of token.
    DATE_TOKENS_RE = _DATE_TOKENS
    DATE_HMS_TIME_RE = _DATE_HMS
    DATE_DAY_OF_MONTH_RE = _DATE_DAY
    DATE_MONTH_RE = _DATE_MONTH
    DATE_YEAR_RE = _DATE_YEAR
    MAX_TIME = _MAX_TIME
    """The latest expiry kept (9999-12-31T23:59:59Z, POSIX time); later dates are clamped."""
    SUB_MAX_TIME = _MAX_TIME - 1

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: str | URL | Iterable[str | URL] | None = None,
        loop: Any = None,
    ) -> None:
        # (domain, path, name) -> (morsel, host_only, expires)
        self._cookies: dict[tuple[str, str, str], tuple[Morsel[str], bool, float]] = {}
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        if treat_as_secure_origin is None:
            origins: Iterable[str | URL] = ()
        elif isinstance(treat_as_secure_origin, (str, URL)):
            origins = (treat_as_secure_origin,)
        else:
            origins = treat_as_secure_origin
        self._secure_origins = frozenset(URL(str(o)).origin() for o in origins)

    @property
    def unsafe(self) -> bool:
        return self._unsafe

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        """The origins whose plain-http URLs still receive ``Secure`` cookies."""
        return self._secure_origins

    @property
    def cookies(self) -> Mapping[tuple[str, str], SimpleCookie]:
        """The live cookies, read-only: ``{(domain, path): SimpleCookie}``, the path without
        its trailing ``/`` (so ``""`` is the root)."""
        self._expire()
        out: dict[tuple[str, str], SimpleCookie] = {}
        for (domain, path, name), (morsel, _, _) in self._cookies.items():
            jar = out.setdefault((domain, path.rstrip("/")), SimpleCookie())
            dict.__setitem__(jar, name, morsel)
        return MappingProxyType(out)

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        """``(domain, path, name)`` of the cookies set without a Domain attribute: they go
        back only to the exact host that set them (path as in :attr:`cookies`)."""
        self._expire()
        return frozenset(
            (domain, path.rstrip("/"), name)
            for (domain, path, name), (_, host_only, _) in self._cookies.items()
            if host_only
        )

    @property
    def empty(self) -> bool:
        """No cookie at all (expired ones included): nothing to filter per request."""
        return not self._cookies

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._expire()
        return iter([m for m, _, _ in self._cookies.values()])

    def __len__(self) -> int:
        self._expire()
        return len(self._cookies)

    def _expire(self) -> None:
        now = time.time()
        for key in [k for k, (_, _, exp) in self._cookies.items() if exp <= now]:
            del self._cookies[key]

    def clear(self, predicate: Any = None) -> None:
        if predicate is None:
            self._cookies.clear()
            return
        for key in [k for k, (m, _, _) in self._cookies.items() if predicate(m)]:
            del self._cookies[key]

    def clear_domain(self, domain: str) -> None:
        for key in [k for k in self._cookies if _domain_match(k[0], domain)]:
            del self._cookies[key]

    def save(self, file_path: str | Path) -> None:
        data = {
            k: (m.key, m.value, m.coded_value, dict(m), h, e)
            for k, (m, h, e) in self._cookies.items()
        }
        with Path(file_path).open("wb") as f:
            pickle.dump(data, f, pickle.HIGHEST_PROTOCOL)

    def load(self, file_path: str | Path) -> None:
        with Path(file_path).open("rb") as f:
            data = pickle.load(f)
        self._cookies.clear()
        for k, (name, value, coded, attrs, host_only, expires) in data.items():
            morsel: Morsel[str] = Morsel()
            morsel.set(name, value, coded)
            for attr, attr_value in attrs.items():
                if attr_value:
                    morsel[attr] = attr_value
            self._cookies[k] = (morsel, host_only, expires)

    def update_cookies(self, cookies: Any, response_url: URL = _NO_URL) -> None:
        """Store ``cookies`` (a mapping, pairs or a SimpleCookie) set by ``response_url``."""
        host = response_url.raw_host
        if not self._unsafe and _is_ip(host):
            return
        if isinstance(cookies, Mapping):
            items: Iterable[tuple[str, Any]] = cookies.items()
        else:
            items = cookies
        now = time.time()
        for name, cookie in items:
            if not isinstance(cookie, Morsel):
                tmp: SimpleCookie = SimpleCookie()
                try:
                    tmp[name] = cookie
                except CookieError:
                    continue
                cookie = tmp[name]
            domain = (cookie["domain"] or "").lstrip(".").lower()
            host_only = not domain
            if host_only:
                domain = (host or "").lower()
            elif host and not _domain_match(host.lower(), domain):
                continue  # a server may only set cookies for its own domain and parents
            path = cookie["path"]
            if not path or not path.startswith("/"):
                path = _default_path(response_url) if host else "/"
            expires = float(_MAX_TIME)
            max_age = cookie["max-age"]
            if max_age:
                try:
                    expires = min(now + int(max_age), expires)
                except ValueError:
                    pass
            elif cookie["expires"]:
                stamp = _parse_date(cookie["expires"])
                if stamp is not None:
                    expires = float(min(stamp, _MAX_TIME))
            morsel: Morsel[str] = Morsel()
            morsel.set(cookie.key, cookie.value, cookie.coded_value)
            for attr in ("secure", "httponly", "samesite", "max-age", "expires"):
                if cookie[attr]:
                    morsel[attr] = cookie[attr]
            morsel["domain"] = domain
            morsel["path"] = path
            key = (domain, path, cookie.key)
            if expires <= now:
                self._cookies.pop(key, None)
            else:
                self._cookies[key] = (morsel, host_only, expires)

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """The cookies to send to ``request_url``."""
        out: SimpleCookie = SimpleCookie()
        if not self._cookies:
            return out
        self._expire()
        host = (request_url.raw_host or "").lower()
        secure = (
            request_url.scheme in ("https", "wss") or request_url.origin() in self._secure_origins
        )
        path = request_url.raw_path or "/"
        matches = []
        for (domain, cpath, name), (morsel, host_only, _) in self._cookies.items():
            if not domain:
                pass  # set without a URL (session cookies=): shared with every host
            elif host_only:
                if host != domain:
                    continue
            elif not _domain_match(host, domain):
                continue
            if not _path_match(path, cpath):
                continue
            if morsel["secure"] and not secure:
                continue
            matches.append((len(cpath), name, morsel))
        matches.sort(key=lambda t: -t[0])  # longer paths first (RFC 6265 5.4)
        for _, name, morsel in matches:
            if name in out:
                continue
            m: Morsel[str] = Morsel()
            m.set(morsel.key, morsel.value, morsel.coded_value)
            dict.__setitem__(out, name, m)
        return out


class DummyCookieJar(AbstractCookieJar):
    """A jar that keeps nothing (``ClientSession(cookie_jar=DummyCookieJar())``)."""

    def __init__(self, *, loop: Any = None) -> None:
        pass

    @property
    def unsafe(self) -> bool:
        return False

    @property
    def cookies(self) -> Mapping[tuple[str, str], SimpleCookie]:
        return _NO_COOKIES

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        return frozenset()

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        return frozenset()

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        pass  # keeps nothing, so nothing is parsed

    def __len__(self) -> int:
        return 0

    def update_cookies(self, cookies: Any, response_url: URL = _NO_URL) -> None:
        pass

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        return SimpleCookie()

    def clear(self, predicate: Any = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass
