"""web.Application(router=...) (deprecated in aiohttp, still accepted) and
StaticResource.VERSION_KEY, checked with httpx against a surge server."""

from __future__ import annotations

import pathlib

import httpx
import pytest

from surge import web
from tests.helpers import serve


async def test_application_takes_a_router_instance() -> None:
    class MyRouter(web.UrlDispatcher):
        pass

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="from the custom router")

    router = MyRouter()
    with pytest.warns(DeprecationWarning, match="router argument is deprecated"):
        app = web.Application(router=router)
    assert app.router is router
    app.router.add_get("/", hello)
    assert [r.canonical for r in router.resources()] == ["/"]
    async with serve(app) as base, httpx.AsyncClient() as client:
        r = await client.get(base + "/")
        assert (r.status_code, r.text) == (200, "from the custom router")
        assert (await client.get(base + "/nope")).status_code == 404


async def test_static_version_key_names_the_query(tmp_path: pathlib.Path) -> None:
    (tmp_path / "site.css").write_bytes(b"body{}")
    app = web.Application()
    resource = app.router.add_static("/static", tmp_path, name="static", append_version=True)
    assert isinstance(resource, web.StaticResource)
    assert web.StaticResource.VERSION_KEY == "v"
    url = resource.url_for(filename="site.css")
    assert set(url.query) == {web.StaticResource.VERSION_KEY}
    async with serve(app) as base, httpx.AsyncClient() as client:
        r = await client.get(base + str(url))
        assert (r.status_code, r.content) == (200, b"body{}")
