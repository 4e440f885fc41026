"""Templates: the spec's aiohttp_jinja2 forms, autoescaping, context processors, helpers."""

from __future__ import annotations

from pathlib import Path

import httpx
import jinja2

from surge import templates, web
from tests.helpers import serve


def _write(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(
        "<h1>{{ title }}</h1><ul>{% for user in users %}<li>{{ user }}</li>{% endfor %}</ul>"
    )
    (tmp_path / "filter.html").write_text("{{ name|uppercase }} {{ who }} {{ url('home') }}")
    return tmp_path


async def test_spec_async_environment_and_decorator(tmp_path: Path) -> None:
    app = web.Application()
    env = templates.Environment(
        loader=jinja2.FileSystemLoader(str(_write(tmp_path))), autoescape=True, enable_async=True
    )
    templates.setup(app, environment=env)
    assert templates.get_env(app) is env

    @templates.template("index.html")
    async def index(request: web.Request) -> dict[str, object]:
        return {"title": "My <Page>", "users": ["Alice", "Bob", "Charlie"]}

    app.router.add_get("/", index)
    async with serve(app) as url, httpx.AsyncClient() as client:
        resp = await client.get(url + "/")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.text == (
        "<h1>My &lt;Page&gt;</h1><ul><li>Alice</li><li>Bob</li><li>Charlie</li></ul>"
    )


async def test_filters_context_processors_and_sync_render(tmp_path: Path) -> None:
    app = web.Application()
    env = templates.Environment(loader=jinja2.FileSystemLoader(str(_write(tmp_path))))

    @env.template_filter("uppercase")
    def uppercase(s: str) -> str:
        return s.upper()

    async def who(request: web.Request) -> dict[str, str]:
        return {"who": request.headers.get("X-Who", "?")}

    templates.setup(app, environment=env, context_processors=[who, templates.request_processor])

    async def page(request: web.Request) -> web.Response:
        return templates.render_template("filter.html", request, {"name": "<bob>"})

    async def missing(request: web.Request) -> web.Response:
        return templates.render_template("nope.html", request, {})

    app.router.add_get("/", page, name="home")
    app.router.add_get("/missing", missing)
    async with serve(app) as url, httpx.AsyncClient() as client:
        resp = await client.get(url + "/", headers={"X-Who": "<i>"})
        assert resp.text == "&lt;BOB&gt; &lt;i&gt; /"
        assert (await client.get(url + "/missing")).status_code == 500


def test_setup_with_a_loader_autoescapes_by_default(tmp_path: Path) -> None:
    app = web.Application()
    env = templates.setup(app, loader=jinja2.DictLoader({"t": "{{ x }}"}))
    assert env.get_template("t").render(x="<b>") == "&lt;b&gt;"
