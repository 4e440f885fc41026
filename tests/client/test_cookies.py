"""CookieJar rules, and cookies round-tripping through a real server."""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from yarl import URL

import surge
from surge import web
from tests.client.servers import raw_server, read_request, reply
from tests.helpers import serve


def _jar(**kwargs: object) -> surge.CookieJar:
    return surge.CookieJar(**kwargs)  # type: ignore[arg-type]


def _names(jar: surge.CookieJar, url: str) -> dict[str, str]:
    return {k: m.value for k, m in jar.filter_cookies(URL(url)).items()}


async def test_host_only_and_domain_cookies() -> None:
    jar = _jar()
    jar.update_cookies({"host": "1"}, URL("http://www.example.com/"))
    jar.update_cookies(_cookie("dom=2; Domain=example.com"), URL("http://www.example.com/"))
    assert _names(jar, "http://www.example.com/") == {"host": "1", "dom": "2"}
    assert _names(jar, "http://sub.example.com/") == {"dom": "2"}
    assert _names(jar, "http://example.com/") == {"dom": "2"}
    assert _names(jar, "http://other.com/") == {}


def _cookie(header: str) -> object:
    from http.cookies import SimpleCookie

    c: SimpleCookie = SimpleCookie()
    c.load(header)
    return c


async def test_foreign_domain_is_rejected() -> None:
    jar = _jar()
    jar.update_cookies(_cookie("evil=1; Domain=bank.com"), URL("http://attacker.com/"))
    assert len(jar) == 0


async def test_path_rules() -> None:
    jar = _jar()
    jar.update_cookies(_cookie("a=1; Path=/api"), URL("http://h.example/"))
    jar.update_cookies(_cookie("b=2"), URL("http://h.example/docs/page"))
    assert _names(jar, "http://h.example/api") == {"a": "1"}
    assert _names(jar, "http://h.example/api/users") == {"a": "1"}
    assert _names(jar, "http://h.example/apix") == {}
    assert _names(jar, "http://h.example/docs/other") == {"b": "2"}


async def test_secure_cookies_only_over_https() -> None:
    jar = _jar()
    jar.update_cookies(_cookie("s=1; Secure"), URL("https://h.example/"))
    assert _names(jar, "https://h.example/") == {"s": "1"}
    assert _names(jar, "http://h.example/") == {}


async def test_expiry() -> None:
    jar = _jar()
    jar.update_cookies(
        _cookie("old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), URL("http://h.example/")
    )
    jar.update_cookies(_cookie("gone=1; Max-Age=0"), URL("http://h.example/"))
    jar.update_cookies(_cookie("keep=1; Max-Age=100"), URL("http://h.example/"))
    assert _names(jar, "http://h.example/") == {"keep": "1"}
    jar.update_cookies(_cookie("keep=1; Max-Age=-1"), URL("http://h.example/"))
    assert len(jar) == 0


async def test_ip_hosts_need_unsafe() -> None:
    safe = _jar()
    safe.update_cookies({"a": "1"}, URL("http://127.0.0.1/"))
    assert len(safe) == 0
    unsafe = _jar(unsafe=True)
    unsafe.update_cookies({"a": "1"}, URL("http://127.0.0.1/"))
    assert _names(unsafe, "http://127.0.0.1/") == {"a": "1"}


async def test_dummy_jar_and_save_load(tmp_path: pathlib.Path) -> None:
    dummy = surge.DummyCookieJar()
    dummy.update_cookies({"a": "1"}, URL("http://h.example/"))
    assert len(dummy) == 0 and not dummy.filter_cookies(URL("http://h.example/"))
    jar = _jar()
    jar.update_cookies(_cookie("a=1; Max-Age=1000; Path=/p"), URL("http://h.example/"))
    jar.save(tmp_path / "jar")
    loaded = _jar()
    loaded.load(tmp_path / "jar")
    assert _names(loaded, "http://h.example/p") == {"a": "1"}


async def test_cookies_round_trip_through_a_server() -> None:
    async def login(request: web.Request) -> web.Response:
        resp = web.Response(text="in")
        resp.set_cookie("session", "abc123", path="/")
        return resp

    async def whoami(request: web.Request) -> web.Response:
        return web.json_response(dict(request.cookies))

    app = web.Application()
    app.router.add_get("/login", login)
    app.router.add_get("/me", whoami)
    async with serve(app) as base:
        url = base.replace("127.0.0.1", "localhost")
        async with surge.ClientSession(cookies={"pref": "dark"}) as s:
            async with s.get(url + "/login") as resp:
                assert resp.cookies["session"].value == "abc123"
            async with s.get(url + "/me") as resp:
                assert await resp.json() == {"pref": "dark", "session": "abc123"}
            async with s.get(url + "/me", cookies={"extra": "1"}) as resp:
                assert (await resp.json())["extra"] == "1"
        async with surge.ClientSession(cookie_jar=surge.DummyCookieJar()) as s:
            await (await s.get(url + "/login")).read()
            async with s.get(url + "/me") as resp:
                assert await resp.json() == {}
    await asyncio.sleep(0)


@pytest.mark.parametrize(("quote", "expected"), [(True, b'k="a b"'), (False, b"k=a b")])
async def test_quote_cookie_controls_quoting_of_sent_values(quote: bool, expected: bytes) -> None:

    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        heads.append(head)
        writer.write(reply(200, b"ok"))
        await writer.drain()

    async with raw_server(handler) as srv:
        jar = surge.CookieJar(unsafe=True, quote_cookie=quote)
        async with (
            surge.ClientSession(cookie_jar=jar, cookies={"k": "a b"}) as s,
            s.get(srv.url) as r,
        ):
            await r.read()
    assert b"\r\nCookie: " + expected + b"\r\n" in heads[0]
