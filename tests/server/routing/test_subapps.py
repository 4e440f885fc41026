"""Sub-applications under a prefix and a domain, served over real sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from surge import web
from surge.server.routing.router import UrlDispatcher
from tests.helpers import serve

NAME = web.AppKey("name", str)
ROOT_ONLY = web.AppKey("root_only", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build() -> tuple[web.Application, web.Application, list[str]]:
    trace: list[str] = []

    @web.middleware
    async def root_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        trace.append("root>")
        response = await handler(request)
        trace.append("<root")
        return response

    @web.middleware
    async def sub_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
        trace.append("sub>")
        response = await handler(request)
        trace.append("<sub")
        return response

    async def info(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "app": request.app[NAME],
                "apps": [app[NAME] for app in request.match_info.apps],
                "chained": request.config_dict[ROOT_ONLY],
                "url": str(request.app.router["detail"].url_for(item_id=5)),
            }
        )

    async def root_page(request: web.Request) -> web.Response:
        return web.Response(text="root")

    root = web.Application(middlewares=[root_mw])
    root[NAME] = "root"
    root[ROOT_ONLY] = "from-root"
    root.router.add_get("/", root_page)
    sub = web.Application(middlewares=[sub_mw])
    sub[NAME] = "sub"
    sub.router.add_get("/info", info)
    sub.router.add_get("/items/{item_id:int}", info, name="detail")
    sub.router.add_post("/only-post", info)
    root.add_subapp("/api/v1/", sub)
    root.router.add_get("/api/v1/late", root_page)  # more specific: served by the root
    return root, sub, trace


async def test_prefixed_subapp_routes_state_middlewares_url_for() -> None:
    root, sub, trace = build()
    async with serve(root) as url, httpx.AsyncClient(base_url=url) as client:
        resp = await client.get("/api/v1/info")
        assert resp.status_code == 200
        assert resp.json() == {
            "app": "sub",
            "apps": ["root", "sub"],
            "chained": "from-root",
            "url": "/api/v1/items/5",
        }
        assert trace == ["root>", "sub>", "<sub", "<root"]
        assert (await client.get("/api/v1/items/7")).status_code == 200
        assert (await client.get("/")).text == "root"
        assert (await client.get("/api/v1/late")).text == "root"
        # The prefix owns its paths: unknown ones are the sub-app's 404.
        assert (await client.get("/api/v1/missing")).status_code == 404
        assert (await client.get("/api/v1x")).status_code == 404
        resp = await client.get("/api/v1/only-post")
        assert resp.status_code == 405
        assert resp.headers["allow"] == "POST"
    assert sub.frozen and root.frozen


async def test_subapp_lifecycle_signals_run_with_parent() -> None:
    events: list[str] = []
    root = web.Application()
    sub = web.Application()

    async def record(app: web.Application) -> None:
        events.append(f"{app[NAME]}")

    async def ctx(app: web.Application):  # type: ignore[no-untyped-def]
        events.append("sub-ctx-up")
        yield
        events.append("sub-ctx-down")

    root[NAME] = "root"
    sub[NAME] = "sub"
    sub.on_startup.append(record)
    sub.on_shutdown.append(record)
    sub.on_cleanup.append(record)
    sub.cleanup_ctx.append(ctx)
    root.on_startup.append(record)
    root.add_subapp("/s", sub)
    async with serve(root):
        assert events == ["root", "sub-ctx-up", "sub"]
    assert events == ["root", "sub-ctx-up", "sub", "sub", "sub-ctx-down", "sub"]


def test_subapp_registration_rules() -> None:
    async def h(request: web.Request) -> web.Response:
        return web.Response()

    root = web.Application()
    sub = web.Application()
    sub.router.add_get("/x", h, name="x")
    with pytest.raises(ValueError):
        root.add_subapp("/", sub)
    with pytest.raises(ValueError):
        root.add_subapp("", sub)
    resource = root.add_subapp("/s/", sub)
    assert isinstance(resource, web.PrefixedSubAppResource)
    assert resource.canonical == "/s"
    assert str(sub.router["x"].url_for()) == "/s/x"
    with pytest.raises(RuntimeError):
        resource.url_for()
    with pytest.raises(RuntimeError):
        root.add_subapp("/t", sub)  # already mounted
    with pytest.raises(RuntimeError):
        sub.router.add_get("/late", h)  # a mounted app's router is frozen
    frozen = web.Application()
    frozen.freeze()
    with pytest.raises(RuntimeError):
        root.add_subapp("/f", frozen)
    root.freeze()
    with pytest.raises(RuntimeError):
        root.add_subapp("/g", web.Application())


def test_nested_subapps_and_plain_lookup_in_subapp() -> None:
    async def h(request: web.Request) -> web.Response:
        return web.Response()

    root, mid, leaf = web.Application(), web.Application(), web.Application()
    leaf.router.add_get("/deep", h, name="deep")
    mid.add_subapp("/leaf", leaf)
    root.add_subapp("/mid", mid)
    assert str(leaf.router["deep"].url_for()) == "/mid/leaf/deep"
    router: UrlDispatcher = root.router
    match = router.resolve_path("GET", "/mid/leaf/deep")
    assert match.http_exception is None
    assert match.apps == (mid, leaf)  # the root adds itself when handling


def make_domain_app(text: str) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=f"{text}:{request.app[NAME]}")

    app = web.Application()
    app[NAME] = text
    app.router.add_get("/", page)
    return app


async def test_domains_over_sockets() -> None:
    async def root_page(request: web.Request) -> web.Response:
        return web.Response(text="root")

    root = web.Application()
    root.router.add_get("/", root_page)
    root.router.add_get("/root-only", root_page)
    root.add_domain("example.com", make_domain_app("exact"))
    root.add_domain("*.example.org", make_domain_app("mask"))
    root.add_domain("пример.рф", make_domain_app("idna"))
    root.add_domain("ported.test:8080", make_domain_app("ported"))
    async with serve(root) as url, httpx.AsyncClient(base_url=url) as client:

        async def get(path: str, host: str) -> tuple[int, str]:
            resp = await client.get(path, headers={"Host": host})
            return resp.status_code, resp.text

        assert await get("/", "example.com") == (200, "exact:exact")
        assert await get("/", "EXAMPLE.com:9000") == (200, "exact:exact")
        assert await get("/", "a.example.org") == (200, "mask:mask")
        assert await get("/", "a.b.example.org:81") == (200, "mask:mask")
        assert (await get("/", "example.org"))[1] == "root"
        assert await get("/", "xn--e1afmkfd.xn--p1ai") == (200, "idna:idna")
        assert await get("/", "ported.test:8080") == (200, "ported:ported")
        assert (await get("/", "ported.test:8081"))[1] == "root"
        assert (await get("/", "other.net"))[1] == "root"
        # A matched domain owns the host: the root's other routes are not reachable there.
        assert (await get("/root-only", "example.com"))[0] == 404


def test_domain_validation() -> None:
    app = web.Application()
    for bad, exc in (
        ("", ValueError),
        ("http://example.com", ValueError),
        ("ex ample.com", ValueError),
        ("-a.com", ValueError),
        (5, TypeError),
    ):
        with pytest.raises(exc):
            app.add_domain(bad, web.Application())  # type: ignore[arg-type]
    resource = app.add_domain("Example.COM.", web.Application())
    assert resource.canonical == "example.com"
    assert app.add_domain("a.test:80", web.Application()).canonical == "a.test"
