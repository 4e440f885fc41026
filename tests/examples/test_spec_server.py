"""The spec's server examples, run with the aiohttp alias and checked with httpx/websockets."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets

from tests.examples.loader import load
from tests.helpers import serve

ROOT = Path(__file__).resolve().parents[2]


async def test_basic_server() -> None:
    ns = load("basic_server")
    async with serve(ns["app"]) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/")
        assert (r.status_code, r.text) == (200, "Hello, World!")


async def test_basic_routes_and_view_decorator() -> None:
    ns = load("basic_routes")
    async with serve(ns["app"]) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/resource")).text == "GET request"
        r = await client.post("/resource", data={"a": "1", "b": "2"})
        assert r.json() == {"received": {"a": "1", "b": "2"}}
        assert (await client.put("/resource", json={"x": 1})).json() == {"updated": {"x": 1}}
        assert (await client.delete("/resource")).text == "Deleted"
        assert (await client.get("/items")).json() == {"items": []}
        r = await client.post("/items", json={"name": "pen"})
        assert (r.status_code, r.json()) == (201, {"created": {"name": "pen"}})


async def test_variable_routes_typed_and_default() -> None:
    ns = load("variable_routes")
    async with serve(ns["app"]) as base, httpx.AsyncClient(base_url=base) as client:
        # '/users/{user_id}' is registered first, so it answers /users/42 with a str id.
        assert (await client.get("/users/42")).json() == {"id": "42", "name": "John"}
        r = await client.post("/users/7/posts", json={"t": "hi"})
        assert (r.status_code, r.json()) == (201, {"user_id": "7", "post": {"t": "hi"}})
        assert (await client.get("/files/a_b.txt")).json() == {"filename": "a_b.txt"}
        assert (await client.get("/files/a%20b")).status_code == 404
        # {user_id:int=1}: the segment is optional and the default is an int.
        assert (await client.get("/users")).json() == {"default_id": 1}


async def test_variable_routes_int_converter_alone() -> None:
    ns = load("variable_routes")
    from surge import web

    app = web.Application()
    app.router.add_get("/users/{user_id:int}", ns["get_user_by_id"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/users/42")).json() == {"id": 42}  # "Already int"
        assert (await client.get("/users/abc")).status_code == 404


async def test_resource_routes_and_url_for(capsys: pytest.CaptureFixture[str]) -> None:
    ns = load("resource_routes")
    assert capsys.readouterr().out.splitlines() == ["/api", "/users/42"]
    async with serve(ns["app"]) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/api")).text == "GET request"
        assert (await client.post("/api")).text == "POST request"


async def test_route_lifecycle_hooks(capsys: pytest.CaptureFixture[str]) -> None:
    ns = load("route_lifecycle")
    app = ns["app"]

    async def hello(request: object) -> object:
        from surge import web

        return web.Response(text="hi")

    app.router.add_get("/hello", hello)
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/hello")).text == "hi"
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Request started: GET /hello"
    assert out[1].startswith("Matched route: ")


async def test_reading_request_data() -> None:
    ns = load("reading_request_data")
    from surge import web

    app = web.Application()
    app.router.add_post("/items/{user_id}", ns["handle_request"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.post("/items/5?page=2&tag=a&tag=b", json={"x": 1})
        assert r.status_code == 200
        assert r.json() == {"query": {"page": "2", "tag": "a"}, "data": {"x": 1}}


# The example calls pydantic v1's .dict(), deprecated (with a warning) in pydantic v2.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_pydantic_validation_middleware() -> None:
    ns = load("pydantic_validation")
    app = ns["app"]
    app.router.add_post("/users", ns["create_user"])  # the example leaves the route to the reader
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        good = {"username": "alice", "email": "a@example.com", "age": 30}
        r = await client.post("/users", json=good)
        assert (r.status_code, r.json()) == (201, {"id": 1, **good})
        r = await client.post("/users", json={"username": "al", "email": "nope"})
        assert r.status_code == 400
        assert r.json()["error"] == "Invalid JSON"
        r = await client.post(
            "/users", content=b"{bad", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400


async def test_request_properties(capsys: pytest.CaptureFixture[str]) -> None:
    ns = load("request_properties")
    from surge import web

    app = web.Application()
    app.router.add_get("/path", ns["handler"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base, cookies={"c": "v"}) as client:
        assert (await client.get("/path?a=1")).text == "OK"
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "GET"
    assert out[1].endswith("/path?a=1")
    assert out[2] == "/path"
    assert out[3] == "<MultiDictProxy('a': '1')>"
    assert "1" in out[4]
    assert "c" in out[5]


async def test_basic_responses() -> None:
    ns = load("basic_responses")
    from surge import web

    app = web.Application()
    app.router.add_get("/", ns["handlers"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/")
        assert (r.status_code, r.text) == (200, "Hello")


async def test_response_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns = load("response_types")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "file.txt").write_text("file body\n")
    from surge import web

    app = web.Application()
    for name in ("text", "json", "bytes", "stream", "file"):
        app.router.add_get(f"/{name}", ns[f"{name}_response"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/text")
        assert (r.text, r.headers["content-type"]) == ("Plain text", "text/plain; charset=utf-8")
        r = await client.get("/json")
        assert r.text == json.dumps({"message": "JSON data"}, indent=2)
        r = await client.get("/bytes")
        assert (r.content, r.headers["content-type"]) == (
            b"Binary data",
            "application/octet-stream",
        )
        r = await client.get("/stream")
        assert r.text == "".join(f"Line {i}\n" for i in range(10))
        r = await client.get("/file")
        assert r.text == "file body\n"
        assert r.headers["content-disposition"] == 'attachment; filename="file.txt"'


async def test_websocket_echo_with_websockets_client() -> None:
    ns = load("websocket_response")
    async with (
        serve(ns["app"]) as base,
        websockets.connect(base.replace("http", "ws") + "/ws") as ws,
    ):
        await ws.send("hello")
        assert await ws.recv() == "Echo: hello"
        await ws.send(b"\x00\x01")
        assert await ws.recv() == b"\x00\x01"


async def test_sse_events_with_unawaited_write() -> None:
    ns = load("sse")
    from surge import web

    app = web.Application()
    app.router.add_get("/events", ns["sse_handler"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/events")
        assert r.headers["content-type"] == "text/event-stream"
        assert r.text == "".join(f'data: {{"count": {i}}}\n\n' for i in range(10))


async def test_creating_middleware() -> None:
    ns = load("creating_middleware")
    from surge import web

    app = ns["app"]
    for path in ("/public/info", "/private"):
        app.router.add_get(path, lambda r: web.Response(text="content"))
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/public/info")).text == "content"
        r = await client.get("/private")
        assert (r.status_code, r.text) == (401, "No auth header")
        r = await client.get("/private", headers={"Authorization": "Bearer bad"})
        assert (r.status_code, r.text) == (403, "Invalid token")
        r = await client.get("/private", headers={"Authorization": "Bearer good-token"})
        assert (r.status_code, r.text) == (200, "content")


async def test_global_error_handlers() -> None:
    ns = load("global_error_handlers")
    from surge import web

    app = ns["app"]

    async def boom(request: web.Request) -> web.Response:
        raise ValueError("kaput")

    app.router.add_get("/ok", lambda r: web.Response(text="fine"))
    app.router.add_get("/boom", boom)
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/ok", headers={"X-Request-Id": "r-1"})
        assert (r.text, r.headers["x-request-id"]) == ("fine", "r-1")
        r = await client.get("/missing")
        assert (r.status_code, r.json()) == (404, {"error": "Not Found", "path": "/missing"})
        r = await client.post("/ok")
        assert r.status_code == 405
        assert r.json() == {"error": "Method Not Allowed", "allowed": ["GET", "POST"]}
        r = await client.get("/boom")
        assert r.status_code == 500
        assert (r.json()["error"], r.json()["message"]) == ("Internal Server Error", "kaput")


async def test_basic_auth_middleware() -> None:
    ns = load("basic_auth")
    from surge import web

    async def me(request: web.Request) -> web.Response:
        return web.json_response(request["user"])

    app = web.Application(middlewares=[ns["basic_auth_middleware"]])
    app.router.add_get("/me", me)
    app.router.add_get("/public/x", lambda r: web.Response(text="open"))
    good = "Basic " + base64.b64encode(b"admin:secret").decode()
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/public/x")).text == "open"
        assert (await client.get("/me", headers={"Authorization": good})).json() == {
            "username": "admin"
        }
        # web.Response('Unauthorized', ...) is a body with status 200, as written.
        for headers in ({}, {"Authorization": "Basic !!"}, {"Authorization": "Basic eDp5"}):
            r = await client.get("/me", headers=headers)
            assert r.text == "Unauthorized"
            assert r.headers["www-authenticate"] == 'Basic realm="Login"'


async def test_static_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "path" / "to" / "static").mkdir(parents=True)
    (tmp_path / "path" / "to" / "static" / "a.css").write_text("body{}")
    (tmp_path / "favicon.ico").write_bytes(b"\x00ICO")
    ns = load("static_files")
    async with serve(ns["app"]) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/static/a.css")).text == "body{}"
        assert (await client.get("/static/%2e%2e/favicon.ico")).status_code in (403, 404)
        assert (await client.get("/favicon.ico")).content == b"\x00ICO"


async def test_jinja2_integration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jinja2")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "index.html").write_text(
        "<h1>{{ title }}</h1>\n<ul>\n{% for user in users %}\n<li>{{ user }}</li>\n{% endfor %}\n</ul>"
    )
    ns = load("jinja2_integration")
    app = ns["app"]
    app.router.add_get("/", ns["index"])
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.get("/")
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1>My Page</h1>" in r.text
        assert [line for line in r.text.splitlines() if line.startswith("<li>")] == [
            "<li>Alice</li>",
            "<li>Bob</li>",
            "<li>Charlie</li>",
        ]


async def test_template_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jinja2")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hi.html").write_text("Hi {{ name|uppercase }}")
    ns = load("template_filters")
    from surge import templates, web

    async def hi(request: web.Request) -> web.Response:
        return templates.render_template("hi.html", request, {"name": "ada"})

    app = ns["app"]
    app.router.add_get("/", hi)
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/")).text == "Hi ADA"


async def test_application_signals(capsys: pytest.CaptureFixture[str]) -> None:
    ns = load("app_signals")
    app = ns["app"]
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/")).status_code == 404
        assert capsys.readouterr().out == "Application starting\n"
        pool = app["db"]
    assert capsys.readouterr().out == "Application shutting down\nApplication cleaning up\n"
    assert pool.closed


async def test_lifespan_context(capsys: pytest.CaptureFixture[str]) -> None:
    ns = load("lifespan_context")
    app = ns["app"]
    async with serve(app):
        assert not app["db"].closed and not app["cache"].closed
    assert app["db"].closed and app["cache"].closed
    assert capsys.readouterr().out == "closed cache\nclosed db\n"


async def test_signals_meaning_pre_and_post_shutdown(capsys: pytest.CaptureFixture[str]) -> None:
    from surge import web
    from surge.compat.aiohttp import signals

    app = web.Application()
    seen: list[object] = []

    async def pre_signal_handler(app: web.Application, services: object) -> None:
        seen.append(("pre", dict(services)))  # type: ignore[call-overload]

    async def post_signal_handler(app: web.Application) -> None:
        seen.append("post")

    async def on_cleanup(app: web.Application) -> None:
        seen.append("cleanup")

    app["db"] = "pool"
    app.signal(signals.pre_shutdown).append(pre_signal_handler)
    app.signal(web.Signals.POST_SIGNALS).append(post_signal_handler)
    app.on_cleanup.append(on_cleanup)
    async with serve(app):
        assert seen == []
    assert seen == [("pre", {"db": "pool"}), "cleanup", "post"]


def test_signals_example_as_a_script(tmp_path: Path) -> None:
    """The example verbatim: run_app serves until SIGINT, the pre-shutdown handler runs; the
    post-signal append after run_app returned then meets a frozen signal list."""
    import socket

    probe = socket.socket()
    try:
        probe.bind(("0.0.0.0", 8080))
    except OSError:
        pytest.skip("port 8080 (the example's default) is in use")
    finally:
        probe.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    script = ROOT / "tests" / "examples" / "spec" / "signals_example.py"
    proc = subprocess.Popen(
        [sys.executable, "-m", "surge.compat.alias", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get("http://127.0.0.1:8080/").status_code == 404:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert out == "Pre-signal handler\n"
    assert "RuntimeError: Cannot modify frozen list." in err
