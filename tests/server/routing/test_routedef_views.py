"""RouteTableDef, web.get/... route defs, class views, and the spec's decorator routes."""

from __future__ import annotations

import sys
import textwrap
import types

import httpx
import pytest

from surge import web
from tests.helpers import serve


class ItemView(web.View):
    async def get(self) -> web.Response:
        return web.json_response({"items": [], "path": self.request.path})

    async def post(self) -> web.Response:
        data = await self.request.json()
        return web.json_response({"created": data}, status=201)


async def test_route_table_def_and_views_over_sockets() -> None:
    routes = web.RouteTableDef()

    @routes.get("/hello", name="hello")
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    @routes.post("/echo")
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    routes.view("/items")(ItemView)
    assert len(routes) == 3 and isinstance(routes[0], web.RouteDef)
    assert hello.__name__ == "hello"
    app = web.Application()
    registered = app.add_routes(routes)
    assert [r.method for r in registered] == ["GET", "POST", "*"]
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/hello")).text == "hello"
        assert (await client.head("/hello")).status_code == 200
        assert (await client.post("/echo", content=b"abc")).content == b"abc"
        resp = await client.get("/items")
        assert resp.json() == {"items": [], "path": "/items"}
        resp = await client.post("/items", json={"a": 1})
        assert resp.status_code == 201 and resp.json() == {"created": {"a": 1}}
        resp = await client.delete("/items")
        assert resp.status_code == 405
        assert resp.headers["allow"] == "GET,POST"


async def test_route_functions_and_add_routes_list() -> None:
    async def h(request: web.Request) -> web.Response:
        return web.Response(text=request.method)

    app = web.Application()
    registered = app.router.add_routes(
        [
            web.get("/g", h, allow_head=False),
            web.post("/x", h),
            web.put("/x", h),
            web.patch("/x", h),
            web.delete("/x", h),
            web.options("/x", h),
            web.head("/x", h),
            web.route("TRACE", "/t", h),
            web.view("/v", ItemView),
        ]
    )
    assert [r.method for r in registered] == [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "*",
    ]  # fmt: skip
    assert repr(web.get("/g", h)) == "<RouteDef GET /g -> 'h', allow_head=True, name=None>"
    static = web.static("/static", "/tmp", show_index=True)
    assert isinstance(static, web.StaticDef) and static.kwargs == {"show_index": True}
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.head("/g")).status_code == 405
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            assert (await client.request(method, "/x")).text == method
        assert (await client.get("/v")).status_code == 200


async def test_view_via_add_view_and_star_route() -> None:
    app = web.Application()
    app.router.add_view("/a", ItemView)
    app.router.add_route("*", "/b", ItemView)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/a")).json()["path"] == "/a"
        assert (await client.get("/b")).json()["path"] == "/b"
        assert (await client.put("/b")).status_code == 405


def load_module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), module.__dict__)
    return module


SPEC_MODULE = """
from surge import web

app = web.Application()

@web.view('/items')
class ItemView(web.View):
    async def get(self):
        return web.json_response({"items": []})

    async def post(self):
        data = await self.request.json()
        return web.json_response({"created": data}, status=201)

@web.get('/ping')
async def ping(request):
    return web.Response(text="pong")
"""


async def test_spec_decorator_form_serves_in_its_module_only() -> None:
    module = load_module("surge_test_decorated_module", SPEC_MODULE)
    other = load_module(
        "surge_test_other_module", "from surge import web\napp = web.Application()\n"
    )
    try:
        assert isinstance(module.ItemView, type) and issubclass(module.ItemView, web.View)
        assert module.ping.__name__ == "ping"
        async with serve(module.app) as url, httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/items")).json() == {"items": []}
            resp = await client.post("/items", json={"n": 1})
            assert resp.status_code == 201 and resp.json() == {"created": {"n": 1}}
            assert (await client.get("/ping")).text == "pong"
        async with serve(other.app) as url, httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/items")).status_code == 404
            assert (await client.get("/ping")).status_code == 404
        assert len(web.Application().router.resources()) == 0  # this test module: none
    finally:
        del sys.modules["surge_test_decorated_module"], sys.modules["surge_test_other_module"]


async def test_view_without_method_and_unknown_method() -> None:
    class OnlyGet(web.View):
        async def get(self) -> web.Response:
            return web.Response(text="g")

    app = web.Application()
    app.router.add_view("/o", OnlyGet)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.request("PROPFIND", "/o")
        assert resp.status_code == 405 and resp.headers["allow"] == "GET"
        resp = await client.head("/o")  # no head(): a 405 as in aiohttp
        assert resp.status_code == 405


def test_abstract_view_requires_await() -> None:
    with pytest.raises(TypeError):
        web.AbstractView(None)  # type: ignore[abstract, arg-type]
