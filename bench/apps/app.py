"""One benchmark app, written once against aiohttp's public API and built on either framework.

``build_app(web)`` takes the framework's ``web`` module, so surge and aiohttp serve exactly the
same handlers and the same route table; only the framework underneath differs.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

HELLO = "Hello, World!"
JSON_BODY = {"message": "Hello, World!", "id": 1, "ok": True}

# 50 routes: the measured one, /route/{id}, sits in the middle so a router that scans its table
# in order pays for the 24 in front of it, and the mix of plain and dynamic paths is realistic.
ROUTES_BEFORE = 24
ROUTES_TOTAL = 50


def route_table() -> list[str]:
    """The 50 routing-benchmark paths, in registration order."""
    filler = []
    for i in range(ROUTES_TOTAL - 1):
        if i % 2:
            filler.append(f"/api/v1/res{i}/{{item_id}}")
        else:
            filler.append(f"/static-page-{i}")
    return [*filler[:ROUTES_BEFORE], "/route/{id}", *filler[ROUTES_BEFORE:]]


def build_app(web: ModuleType) -> Any:
    """The benchmark application on ``web`` (``surge.web`` or ``aiohttp.web``)."""

    async def plaintext(request: Any) -> Any:
        return web.Response(text=HELLO)

    async def json(request: Any) -> Any:
        return web.json_response(JSON_BODY)

    async def route(request: Any) -> Any:
        return web.Response(text=request.match_info["id"])

    async def filler(request: Any) -> Any:
        return web.Response(text="filler")

    async def echo(request: Any) -> Any:
        body = await request.read()
        return web.Response(body=body, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/", plaintext)
    app.router.add_get("/json", json)
    app.router.add_post("/echo", echo)
    for path in route_table():
        app.router.add_get(path, route if path == "/route/{id}" else filler)
    return app
