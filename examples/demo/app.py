"""The demo application: ``create_app()`` builds it; ``python -m examples.demo`` serves it."""

from __future__ import annotations

from html import escape

from examples.demo.live import add_live_routes
from surge import web

PAGES = [
    ("/hello/world", "A dynamic route: /hello/{name}"),
    ("/users/42", "A typed route: /users/{user_id:int}"),
    ("/json", "A JSON response"),
    ("/form", "A form posted back as JSON"),
    ("/stream", "A streamed (chunked) response"),
    ("/live", "A WebSocket chat and a Server-Sent Events clock"),
]


async def index(request: web.Request) -> web.Response:
    items = "".join(f'<li><a href="{href}">{escape(text)}</a></li>' for href, text in PAGES)
    html = f"<!doctype html><title>surge demo</title><h1>surge demo</h1><ul>{items}</ul>"
    return web.Response(text=html, content_type="text/html")


async def hello(request: web.Request) -> web.Response:
    return web.Response(text=f"Hello, {request.match_info['name']}!")


async def user(request: web.Request) -> web.Response:
    return web.json_response({"id": request.match_info["user_id"], "type": "int"})


async def json_view(request: web.Request) -> web.Response:
    return web.json_response({"framework": "surge", "query": dict(request.query)})


async def form_page(request: web.Request) -> web.Response:
    html = (
        "<!doctype html><form method=post action=/form>"
        "<input name=username><input name=password type=password>"
        "<button>Send</button></form>"
    )
    return web.Response(text=html, content_type="text/html")


async def form_post(request: web.Request) -> web.Response:
    data = await request.post()
    return web.json_response({"received": {k: str(v) for k, v in data.items()}})


async def stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    for i in range(5):
        await response.write(f"line {i}\n".encode())
    await response.write_eof()
    return response


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/hello/{name}", hello)
    app.router.add_get("/users/{user_id:int}", user)
    app.router.add_get("/json", json_view)
    app.router.add_get("/form", form_page)
    app.router.add_post("/form", form_post)
    app.router.add_get("/stream", stream)
    add_live_routes(app)
    return app
