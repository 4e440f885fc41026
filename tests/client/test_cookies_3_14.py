"""aiohttp 3.13/3.14 CookieJar API: update_cookies_from_headers, cookies, host_only_cookies,
treat_as_secure_origin, the date regexes and MAX_TIME; DummyCookieJar's counterparts."""

from __future__ import annotations

import asyncio
import calendar
import re

from yarl import URL

import surge
from tests.client.servers import raw_server, read_request, reply


def _names(jar: surge.CookieJar, url: str) -> dict[str, str]:
    return {k: m.value for k, m in jar.filter_cookies(URL(url)).items()}


async def test_update_cookies_from_headers_keeps_same_named_cookies_apart() -> None:
    jar = surge.CookieJar()
    jar.update_cookies_from_headers(
        [
            "sid=root; Path=/",
            "sid=api; Path=/api",
            'q="a b"; Path=/',
            "wide=1; Domain=example.com; Path=/",
            "gone=1; Max-Age=0",
            "broken",  # no name=value: ignored, the others still count
            "exp=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT; HttpOnly",
        ],
        URL("http://www.example.com/"),
    )
    assert _names(jar, "http://www.example.com/api/x") == {
        "sid": "api",  # the longer path first (RFC 6265 5.4)
        "q": "a b",
        "wide": "1",
        "exp": "1",
    }
    assert _names(jar, "http://www.example.com/") == {
        "sid": "root",
        "q": "a b",
        "wide": "1",
        "exp": "1",
    }
    assert _names(jar, "http://other.example.com/") == {"wide": "1"}
    assert len(jar) == 5


async def test_cookies_and_host_only_cookies_views() -> None:
    jar = surge.CookieJar()
    jar.update_cookies_from_headers(
        ["a=1; Path=/", "b=2; Domain=example.com", "c=3; Path=/docs/"],
        URL("http://www.example.com/x"),
    )
    cookies = jar.cookies
    assert {key: sorted(c) for key, c in cookies.items()} == {
        ("www.example.com", ""): ["a"],
        ("example.com", ""): ["b"],
        ("www.example.com", "/docs"): ["c"],
    }
    assert cookies[("www.example.com", "")]["a"].value == "1"
    assert jar.host_only_cookies == frozenset(
        {("www.example.com", "", "a"), ("www.example.com", "/docs", "c")}
    )
    try:
        cookies[("x", "")] = cookies[("example.com", "")]  # type: ignore[index]
    except TypeError:
        pass
    else:
        raise AssertionError("CookieJar.cookies must be read-only")


async def test_treat_as_secure_origin_sends_secure_cookies_over_http() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            seen.append(head)
            cookie = {"Set-Cookie": "tok=s3cret; Secure; Path=/"} if len(seen) == 1 else {}
            writer.write(reply(200, b"ok", cookie))
            await writer.drain()

    async with raw_server(handler) as srv:
        origin = URL(srv.url)
        secure = surge.CookieJar(unsafe=True, treat_as_secure_origin=srv.url)
        assert secure.treat_as_secure_origin == frozenset({origin})
        async with surge.ClientSession(cookie_jar=secure) as s:
            for _ in range(2):
                async with s.get(srv.url + "/p") as r:
                    assert await r.read() == b"ok"
        assert b"\r\nCookie: tok=s3cret\r\n" in seen[1]

        seen.clear()
        plain = surge.CookieJar(unsafe=True)
        assert plain.treat_as_secure_origin == frozenset()
        async with surge.ClientSession(cookie_jar=plain) as s:
            for _ in range(2):
                async with s.get(srv.url + "/p") as r:
                    await r.read()
        assert b"Cookie:" not in seen[1]  # stored, but Secure: not for plain http
        assert len(plain) == 1


async def test_treat_as_secure_origin_accepts_a_list() -> None:
    jar = surge.CookieJar(treat_as_secure_origin=["http://a.test:8080/x", URL("http://b.test")])
    assert jar.treat_as_secure_origin == frozenset(
        {URL("http://a.test:8080"), URL("http://b.test")}
    )
    jar.update_cookies_from_headers(["s=1; Secure"], URL("https://a.test:8080/"))
    assert _names(jar, "http://a.test:8080/") == {"s": "1"}
    assert _names(jar, "http://a.test:9090/") == {}  # another origin


async def test_session_stores_every_set_cookie_line() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
            b"Set-Cookie: v=root; Path=/\r\n"
            b"Set-Cookie: v=deep; Path=/a/b\r\n"
            b"Set-Cookie: w=2\r\n\r\n"
        )
        await writer.drain()

    async with raw_server(handler) as srv:
        jar = surge.CookieJar(unsafe=True)
        async with surge.ClientSession(cookie_jar=jar) as s, s.get(srv.url + "/") as r:
            assert r.status == 200
    host = URL(srv.url).host
    assert {key: sorted(c) for key, c in jar.cookies.items()} == {
        (host, ""): ["v", "w"],
        (host, "/a/b"): ["v"],
    }
    assert _names(jar, srv.url + "/a/b/c") == {"v": "deep", "w": "2"}


async def test_date_regexes_and_max_time() -> None:
    jar = surge.CookieJar()
    for name in ("DATE_TOKENS_RE", "DATE_HMS_TIME_RE", "DATE_DAY_OF_MONTH_RE"):
        assert isinstance(getattr(jar, name), re.Pattern)
    assert jar.DATE_HMS_TIME_RE.match("10:18:14")
    assert jar.DATE_MONTH_RE.match("JUN")
    assert jar.DATE_YEAR_RE.match("2021")
    assert not jar.DATE_DAY_OF_MONTH_RE.match("x")
    assert calendar.timegm((9999, 12, 31, 23, 59, 59, 0, 0, 0)) == jar.MAX_TIME
    assert jar.SUB_MAX_TIME == jar.MAX_TIME - 1
    # An expiry past year 9999 is clamped, not an error, and the cookie lives.
    jar.update_cookies_from_headers(
        ["far=1; Expires=Fri, 01 Jan 10500 00:00:00 GMT", "huge=1; Max-Age=99999999999999"],
        URL("http://h.test/"),
    )
    assert _names(jar, "http://h.test/") == {"far": "1", "huge": "1"}


async def test_dummy_cookie_jar_keeps_nothing() -> None:
    jar = surge.DummyCookieJar()
    jar.update_cookies_from_headers(["a=1"], URL("http://h.test/"))
    assert len(jar) == 0
    assert dict(jar.cookies) == {}
    assert jar.host_only_cookies == frozenset()
    assert jar.treat_as_secure_origin == frozenset()
    assert jar.unsafe is False
    assert not jar.filter_cookies(URL("http://h.test/"))
