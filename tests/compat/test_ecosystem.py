"""Real aiohttp-ecosystem packages on surge through the alias: aiohttp-cors, aiohttp-session,
aiohttp-sse, each in its documented basic use, checked with httpx.

They depend on aiohttp, so they are not in the ``dev`` extra (that would install the real aiohttp
into a fresh environment). They are installed here with ``pip --no-deps --target`` into a
temporary directory put on ``sys.path`` for these tests only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from surge import web
from tests.helpers import serve

PACKAGES = ["aiohttp-cors==0.8.1", "aiohttp-session==2.12.1", "aiohttp-sse==3.0"]
MODULES = ("aiohttp_cors", "aiohttp_session", "aiohttp_sse")


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("aiohttp-ecosystem")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    result = subprocess.run([*cmd, *PACKAGES], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = f"cannot install {PACKAGES} from the package index: {result.stderr[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return target


@pytest.fixture
def ecosystem(site_dir: Path, alias: None) -> Iterator[None]:
    sys.path.insert(0, str(site_dir))
    try:
        yield
    finally:
        sys.path.remove(str(site_dir))
        for name in [n for n in sys.modules if n.split(".")[0] in MODULES]:
            del sys.modules[name]


async def test_aiohttp_cors_preflight_and_headers(ecosystem: None) -> None:
    import aiohttp_cors
    from aiohttp import web as aioweb

    async def hello(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(text="Hello!")

    app = aioweb.Application()
    cors = aiohttp_cors.setup(
        app,
        defaults={
            "http://client.example": aiohttp_cors.ResourceOptions(
                allow_credentials=True, expose_headers="*", allow_headers="*"
            )
        },
    )
    resource = cors.add(app.router.add_resource("/hello"))
    cors.add(resource.add_route("GET", hello))

    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        pre = await client.options(
            "/hello",
            headers={
                "Origin": "http://client.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-Token",
            },
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "http://client.example"
        assert pre.headers["access-control-allow-credentials"] == "true"
        assert "GET" in pre.headers["access-control-allow-methods"]
        assert pre.headers["access-control-allow-headers"].upper() == "X-TOKEN"

        got = await client.get("/hello", headers={"Origin": "http://client.example"})
        assert got.status_code == 200
        assert got.text == "Hello!"
        assert got.headers["access-control-allow-origin"] == "http://client.example"

        # An origin that is not configured gets no CORS headers (and a refused preflight).
        other = await client.get("/hello", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        refused = await client.options(
            "/hello",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert refused.status_code == 403


async def test_aiohttp_session_cookie_round_trip(ecosystem: None) -> None:
    from aiohttp import web as aioweb
    from aiohttp_session import SimpleCookieStorage, get_session, setup

    async def handler(request: aioweb.Request) -> aioweb.Response:
        session = await get_session(request)
        session["visits"] = session.get("visits", 0) + 1
        return aioweb.Response(text=f"visits: {session['visits']}")

    app = aioweb.Application()
    setup(app, SimpleCookieStorage())
    app.router.add_get("/", handler)

    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        first = await client.get("/")
        assert first.text == "visits: 1"
        assert "AIOHTTP_SESSION" in first.headers["set-cookie"]
        second = await client.get("/")  # httpx sends the session cookie back
        assert second.text == "visits: 2"
        assert (await client.get("/")).text == "visits: 3"
        client.cookies.clear()
        assert (await client.get("/")).text == "visits: 1"


async def test_aiohttp_sse_events(ecosystem: None) -> None:
    from aiohttp import web as aioweb
    from aiohttp_sse import sse_response

    async def events(request: aioweb.Request) -> aioweb.StreamResponse:
        async with sse_response(request) as resp:
            for i in range(3):
                await resp.send(f"tick {i}", event="tick", id=str(i))
        return resp

    app = aioweb.Application()
    app.router.add_get("/events", events)

    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        resp = await client.get("/events")
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        blocks = [b for b in resp.text.replace("\r\n", "\n").split("\n\n") if b.strip()]
        assert blocks == [f"id: {i}\nevent: tick\ndata: tick {i}" for i in range(3)]


def test_surge_web_is_what_the_packages_see(ecosystem: None) -> None:
    import aiohttp_session

    assert aiohttp_session.web is web
