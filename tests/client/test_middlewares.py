"""Client middlewares (aiohttp 3.12 style) and DigestAuthMiddleware against an independent
digest server (http.server, checked with hashlib here)."""

from __future__ import annotations

import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

import surge
from surge import web
from tests.client.servers import http_server
from tests.helpers import serve


def _app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("X-Mw", "-"))

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/echo")

    async def flaky(request: web.Request) -> web.Response:
        state = request.app["n"]
        state.append(1)
        return web.Response(status=503 if len(state) < 3 else 200, text=str(len(state)))

    app = web.Application()
    app["n"] = []
    app.router.add_get("/echo", echo)
    app.router.add_get("/hop", hop)
    app.router.add_get("/flaky", flaky)
    return app


async def test_session_middlewares_wrap_each_hop_in_order() -> None:
    calls: list[str] = []

    async def outer(req: surge.ClientRequest, handler: surge.ClientHandlerType) -> Any:
        calls.append(f"outer {req.url.path}")
        req.headers["X-Mw"] = "outer"
        resp = await handler(req)
        calls.append(f"outer got {resp.status}")
        return resp

    async def inner(req: surge.ClientRequest, handler: surge.ClientHandlerType) -> Any:
        calls.append(f"inner {req.headers['X-Mw']}")
        assert req.session is session
        return await handler(req)

    async with serve(_app()) as base, surge.ClientSession(middlewares=(outer, inner)) as session:
        async with session.get(f"{base}/hop") as r:
            assert await r.text() == "outer"
        # per request middlewares replace the session's; () turns them off
        async with session.get(f"{base}/echo", middlewares=()) as r:
            assert await r.text() == "-"

        async def tag(req: surge.ClientRequest, handler: surge.ClientHandlerType) -> Any:
            req.headers["X-Mw"] = "per-request"
            return await handler(req)

        async with session.get(f"{base}/echo", middlewares=(tag,)) as r:
            assert await r.text() == "per-request"
    assert calls == [
        "outer /hop",
        "inner outer",
        "outer got 302",
        "outer /echo",
        "inner outer",
        "outer got 200",
    ]


async def test_middleware_answer_without_the_network() -> None:
    async def inner(req: surge.ClientRequest, handler: surge.ClientHandlerType) -> Any:
        return await handler(req)

    calls = 0

    async def retry(req: surge.ClientRequest, handler: surge.ClientHandlerType) -> Any:
        nonlocal calls
        for _ in range(5):
            calls += 1
            resp = await handler(req)
            if resp.ok:
                return resp
            await resp.read()
        return resp

    async with (
        serve(_app()) as base,
        surge.ClientSession(middlewares=(retry, inner)) as s,
        s.get(f"{base}/flaky") as r,
    ):
        assert r.status == 200
        assert await r.text() == "3"
    assert calls == 3


# --- digest ---------------------------------------------------------------------------------

USER, PASSWORD, REALM = "Mufasa", "Circle of Life", "http-auth@example.org"


def _parse(header: str) -> dict[str, str]:
    return {
        k.lower(): v1 if v1 else v2
        for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header)
    }


def digest_handler(algorithm: str, qop: str) -> type[BaseHTTPRequestHandler]:
    hashfunc = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[algorithm.removesuffix("-sess")]
    lock = threading.Lock()
    state = {"challenges": 0, "ok": 0, "nc": []}

    def h(text: str) -> str:
        return hashfunc(text.encode()).hexdigest()

    class Handler(BaseHTTPRequestHandler):
        stats = state

        def _check(self, body: bytes) -> bool:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Digest "):
                return False
            p = _parse(auth[7:])
            ha1 = h(f"{USER}:{REALM}:{PASSWORD}")
            if algorithm.endswith("-sess"):
                ha1 = h(f"{ha1}:{p['nonce']}:{p['cnonce']}")
            a2 = f"{self.command}:{self.path}"
            if p.get("qop") == "auth-int":
                a2 += ":" + hashfunc(body).hexdigest()
            ha2 = h(a2)
            expected = h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
            with lock:
                state["nc"].append(p["nc"])
            return (
                p.get("username") == USER
                and p.get("uri") == self.path
                and p.get("opaque") == "op4que"
                and p.get("nonce") == "n0nce"
                and p["response"] == expected
            )

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self._check(body):
                with lock:
                    state["ok"] += 1
                out = b"welcome " + body
                self.send_response(200)
            else:
                with lock:
                    state["challenges"] += 1
                out = b"no"
                self.send_response(401)
                self.send_header(
                    "WWW-Authenticate",
                    f'Digest realm="{REALM}", qop="{qop}", algorithm={algorithm}, '
                    'nonce="n0nce", opaque="op4que"',
                )
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.mark.parametrize(
    ("algorithm", "qop"),
    [("MD5", "auth"), ("SHA-256", "auth"), ("SHA-256-sess", "auth"), ("SHA-256", "auth-int")],
)
async def test_digest_auth_middleware(algorithm: str, qop: str) -> None:
    handler = digest_handler(algorithm, qop)
    with http_server(handler) as base:
        mw = surge.DigestAuthMiddleware(USER, PASSWORD)
        async with surge.ClientSession(middlewares=(mw,)) as s:
            async with s.post(f"{base}/dir/index.html?x=1", data=b"abc") as r:
                assert r.status == 200
                assert await r.read() == b"welcome abc"
            async with s.get(f"{base}/dir/other") as r:  # preemptive: no new challenge
                assert r.status == 200
    assert handler.stats["challenges"] == 1  # type: ignore[attr-defined]
    assert handler.stats["ok"] == 2  # type: ignore[attr-defined]
    assert handler.stats["nc"] == ["00000001", "00000002"]  # type: ignore[attr-defined]


async def test_digest_wrong_password_ends_with_the_401() -> None:
    handler = digest_handler("SHA-256", "auth")
    with http_server(handler) as base:
        mw = surge.DigestAuthMiddleware(USER, "wrong")
        async with surge.ClientSession(middlewares=(mw,)) as s:
            async with s.get(f"{base}/") as r:
                assert r.status == 401
            async with s.get(f"{base}/") as r:
                assert r.status == 401
    # one challenge answered per request, never a loop
    assert handler.stats["challenges"] == 3  # type: ignore[attr-defined]


def test_digest_rejects_bad_credentials() -> None:
    with pytest.raises(ValueError):
        surge.DigestAuthMiddleware("a:b", "x")
