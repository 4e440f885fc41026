"""normalize_path_middleware, request hooks, on_exception handlers, handler injection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from surge import web
from tests.helpers import serve


async def ok(request: web.Request) -> web.Response:
    return web.Response(text=f"ok {request.path}")


def normalized_app(**kwargs: Any) -> web.Application:
    app = web.Application(middlewares=[web.normalize_path_middleware(**kwargs)])
    app.router.add_get("/with/", ok)
    app.router.add_get("/without", ok)
    app.router.add_get("/a/b/", ok)
    return app


async def test_append_slash_and_merge_keep_query() -> None:
    async with serve(normalized_app()) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/with?x=1&y=a%20b")
        assert resp.status_code == 308
        assert resp.headers["location"] == "/with/?x=1&y=a%20b"
        resp = await client.get("/a//b")
        assert resp.status_code == 308 and resp.headers["location"] == "/a/b/"
        resp = await client.get(url + "//a///b/")
        assert resp.status_code == 308 and resp.headers["location"] == "/a/b/"
        assert (await client.get("/without/")).status_code == 404  # remove_slash is off
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.get("/without")).text == "ok /without"


async def test_remove_slash_and_redirect_class() -> None:
    app = normalized_app(
        append_slash=False, remove_slash=True, redirect_class=web.HTTPMovedPermanently
    )
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/without/?q=1")
        assert resp.status_code == 301 and resp.headers["location"] == "/without?q=1"
        assert (await client.get("/with")).status_code == 404


async def test_no_open_redirect_to_another_host() -> None:
    app = normalized_app()
    app.router.add_get("/evil.com/", ok)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get(url + "//evil.com")
        assert resp.status_code == 308
        assert resp.headers["location"] == "/evil.com/"


def test_append_and_remove_together_refused() -> None:
    with pytest.raises(AssertionError):
        web.normalize_path_middleware(append_slash=True, remove_slash=True)


async def test_request_hooks_see_request_and_match() -> None:
    seen: list[Any] = []

    async def on_start(request: web.Request) -> None:
        seen.append(("start", request.method, request.path))

    async def on_match(request: web.Request, match_info: web.UrlMappingMatchInfo) -> None:
        seen.append(("match", dict(match_info), match_info.route.method))

    app = web.Application()
    app.router.add_get("/users/{user_id:int}", ok)
    app.on_request_start.append(on_start)
    app.on_request_match.append(on_match)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/users/5")).status_code == 200
        assert (await client.get("/missing")).status_code == 404
    assert seen == [
        ("start", "GET", "/users/5"),
        ("match", {"user_id": 5}, "GET"),
        ("start", "GET", "/missing"),
        ("match", {}, "*"),
    ]


async def test_spec_global_error_handlers() -> None:
    async def not_found_handler(request: web.Request) -> web.Response:
        return web.json_response({"error": "Not Found", "path": request.path}, status=404)

    async def method_not_allowed_handler(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": "Method Not Allowed", "allowed": ["GET", "POST"]}, status=405
        )

    async def boom(request: web.Request) -> web.Response:
        raise ValueError("boom")

    app = web.Application()
    app.router.add_get("/thing", ok)
    app.router.add_get("/boom", boom)
    app.on_exception.append(not_found_handler)
    app.on_exception.append(method_not_allowed_handler)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/nope")
        assert resp.status_code == 404
        assert resp.json() == {"error": "Not Found", "path": "/nope"}
        resp = await client.delete("/thing")
        assert resp.status_code == 405
        assert resp.json()["error"] == "Method Not Allowed"
        resp = await client.get("/boom")  # neither handler's status is 500: the default
        assert resp.status_code == 500
        assert "application/json" not in resp.headers.get("content-type", "")


async def test_exception_handler_with_exception_argument() -> None:
    async def handle(request: web.Request, exc: Exception) -> web.Response | None:
        if isinstance(exc, KeyError):
            return web.json_response({"missing": str(exc.args[0])}, status=422)
        return None

    async def lookup(request: web.Request) -> web.Response:
        raise KeyError("field")

    app = web.Application()
    app.router.add_get("/lookup", lookup)
    app.on_exception.append(handle)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/lookup")
        assert resp.status_code == 422 and resp.json() == {"missing": "field"}
        assert (await client.get("/other")).status_code == 404


async def test_injection_sync_handlers_and_spec_decorators() -> None:
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text="OK"))

    @app.router.post("/users")
    async def create_user(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"id": 1, "username": data.get("username")}, status=201)

    @app.router.get("/users/{user_id}")
    async def get_user(request: web.Request, match_info: dict[str, Any]) -> web.Response:
        user_id = match_info["user_id"]
        return web.json_response({"id": user_id, "name": f"User {user_id}"})

    async def typed(request: web.Request, item_id: int, *, flag: str = "no") -> web.Response:
        return web.json_response({"item_id": item_id, "type": type(item_id).__name__})

    def plain_sync(request: web.Request) -> web.Response:
        return web.Response(text="sync")

    app.router.add_get("/items/{item_id:int}", typed)
    app.router.add_get("/sync", plain_sync)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/")).text == "OK"
        resp = await client.post("/users", json={"username": "testuser"})
        assert resp.status_code == 201 and resp.json() == {"id": 1, "username": "testuser"}
        resp = await client.get("/users/123")
        assert resp.json() == {"id": "123", "name": "User 123"}
        assert (await client.get("/items/9")).json() == {"item_id": 9, "type": "int"}
        assert (await client.get("/sync")).text == "sync"
        assert (await client.head("/sync")).status_code == 200
