"""The application the HTTP/2 tests serve."""

from __future__ import annotations

import asyncio
from typing import Any

from surge import web

CHUNK = b"x" * 16384


def build_app(state: dict[str, Any] | None = None) -> web.Application:
    state = state if state is not None else {}
    state.setdefault("active", 0)
    state.setdefault("max_active", 0)
    state.setdefault("transports", set())
    state.setdefault("errors", [])
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.version[0]}.{request.version[1]}")

    async def info(request: web.Request) -> web.Response:
        return web.json_response(
            {"version": list(request.version), "host": request.host, "method": request.method}
        )

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def hop(request: web.Request) -> web.Response:
        resp = web.Response(text="hop")
        resp.headers["Connection"] = "keep-alive"
        resp.headers["Keep-Alive"] = "timeout=5"
        resp.headers["X-Kept"] = "yes"
        return resp

    async def stream(request: web.Request) -> web.StreamResponse:
        n = int(request.query.get("n", "64"))
        resp = web.StreamResponse()
        resp.content_type = "application/octet-stream"
        await resp.prepare(request)
        try:
            for _ in range(n):
                await resp.write(CHUNK)
        except ConnectionError as exc:
            state["errors"].append(exc)
            raise
        await resp.write_eof()
        return resp

    async def slow(request: web.Request) -> web.Response:
        state["active"] += 1
        state["max_active"] = max(state["max_active"], state["active"])
        state["transports"].add(request.transport.get_extra_info("peername"))
        try:
            release = state.get("release")
            if release is not None:
                await release.wait()
            else:
                await asyncio.sleep(0.05)
        finally:
            state["active"] -= 1
        return web.Response(text=request.query.get("i", ""))

    app.router.add_get("/", hello)
    app.router.add_get("/info", info)
    app.router.add_post("/echo", echo)
    app.router.add_get("/hop", hop)
    app.router.add_get("/stream", stream)
    app.router.add_get("/slow", slow)
    return app
