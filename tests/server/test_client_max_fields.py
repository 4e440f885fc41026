"""``Application(client_max_fields=...)`` bounds how many fields ``request.post()`` accepts
(413, as aiohttp), checked with httpx; and the router's ``unindex_resource``/``index_resource``."""

from __future__ import annotations

import httpx

from surge import web
from tests.helpers import serve


def _app(**kwargs: object) -> web.Application:
    async def form(request: web.Request) -> web.Response:
        data = await request.post()
        return web.Response(text=f"{request.client_max_fields}:{len(data)}")

    app = web.Application(**kwargs)  # type: ignore[arg-type]
    app.router.add_post("/", form)
    return app


async def test_client_max_fields_bounds_urlencoded_and_multipart_forms() -> None:
    async with serve(_app(client_max_fields=2)) as base, httpx.AsyncClient() as client:
        ok = await client.post(base + "/", data={"a": "1", "b": "2"})
        assert (ok.status_code, ok.text) == (200, "2:2")
        over = await client.post(base + "/", data={"a": "1", "b": "2", "c": "3"})
        assert over.status_code == 413
        assert over.text == "Maximum number of form fields 2 exceeded."
        repeated = await client.post(
            base + "/",
            content=b"a=1&a=2&a=3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert repeated.status_code == 413
        files = {name: (f"{name}.txt", b"x") for name in ("a", "b", "c")}
        multipart = await client.post(base + "/", files=files)
        assert multipart.status_code == 413
        assert multipart.text == "Maximum number of form fields 2 exceeded."
        two_files = await client.post(base + "/", files={"a": ("a.txt", b"x")}, data={"b": "y"})
        assert (two_files.status_code, two_files.text) == (200, "2:2")


async def test_the_default_is_aiohttp_s_1000() -> None:
    async with serve(_app()) as base, httpx.AsyncClient() as client:
        body = "&".join(f"f{i}=v" for i in range(1000))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        ok = await client.post(base + "/", content=body, headers=headers)
        assert (ok.status_code, ok.text) == (200, "1000:1000")
        over = await client.post(base + "/", content=body + "&last=v", headers=headers)
        assert over.status_code == 413


async def test_clone_keeps_or_replaces_the_limit() -> None:
    seen: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.clone().client_max_fields)
        seen.append(request.clone(client_max_fields=5).client_max_fields)
        return web.Response()

    app = web.Application(client_max_fields=3)
    app.router.add_get("/", handler)
    async with serve(app) as base, httpx.AsyncClient() as client:
        assert (await client.get(base + "/")).status_code == 200
    assert seen == [3, 5]


async def test_unindex_and_index_resource() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    resource = app.router.add_resource("/hello")
    resource.add_route("GET", hello)
    app.router.post_init(app)
    async with serve(app) as base, httpx.AsyncClient() as client:
        assert (await client.get(base + "/hello")).text == "hello"
        app.router.unindex_resource(resource)
        assert (await client.get(base + "/hello")).status_code == 404
        assert resource in app.router.resources()
        app.router.index_resource(resource)
        assert (await client.get(base + "/hello")).text == "hello"
