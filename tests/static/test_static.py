"""add_static over real sockets: traversal and symlink safety, FIFOs, listings, versions."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import httpx
import pytest

from surge import web
from tests.conftest import require_tool
from tests.helpers import raw_exchange, serve


async def _curl(*args: str) -> tuple[int, bytes]:
    """curl with the path sent as written (no dot-segment clean-up); status and body."""
    curl = require_tool("curl")
    proc = await asyncio.create_subprocess_exec(
        curl,
        "-s",
        "--path-as-is",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        *args,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    body, _, code = out.rpartition(b"\n")
    return int(code), body


def _app(root: Path, **kwargs: object) -> web.Application:
    app = web.Application()
    app.router.add_static("/static/", root, name="static", **kwargs)  # type: ignore[arg-type]
    return app


async def test_serves_a_file_with_type_and_validators(tree: Path) -> None:
    async with serve(_app(tree)) as url, httpx.AsyncClient() as client:
        resp = await client.get(f"{url}/static/hello.txt")
        assert resp.status_code == 200
        assert resp.content == b"hello world\n"
        assert resp.headers["content-type"].startswith("text/plain")
        assert resp.headers["etag"].startswith('"')
        assert "last-modified" in resp.headers
        head = await client.head(f"{url}/static/sub/page.html")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len("<p>page</p>"))


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/sub/../../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/outside/secret.txt",
        "/static/sub%2f..%2f..%2fsecret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/sub\\..\\..\\secret.txt",
        "/static/hello.txt%00.png",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/link_out",
        "/static/dir_out/secret.txt",
        "/static/fifo",
        "/static/sub",
        "/static/",
    ],
)
async def test_refuses_everything_outside_the_root(tree: Path, path: str) -> None:
    async with serve(_app(tree)) as url:
        status, body = await _curl(url + path)
    assert status in (403, 404), (path, status)
    assert b"SECRET" not in body and b"root:" not in body


async def test_raw_request_targets_cannot_escape(tree: Path) -> None:
    async with serve(_app(tree)) as url:
        port = int(url.rsplit(":", 1)[1])
        for target in (b"/static/../../secret.txt", b"/static/./../secret.txt"):
            reply = await raw_exchange(
                port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            assert reply.split(b" ", 2)[1] in (b"403", b"404", b"400")
            assert b"SECRET" not in reply


async def test_follow_symlinks_stays_inside_the_resolved_root(tree: Path) -> None:
    async with serve(_app(tree, follow_symlinks=True)) as url:
        assert await _curl(url + "/static/link_in") == (200, b"hello world\n")
        status, body = await _curl(url + "/static/link_out")
        assert status in (403, 404) and b"SECRET" not in body
        status, body = await _curl(url + "/static/dir_out/secret.txt")
        assert status in (403, 404) and b"SECRET" not in body
    async with serve(_app(tree)) as url:  # not following: even an inside link is refused
        assert (await _curl(url + "/static/link_in"))[0] == 404


async def test_fifo_is_never_opened(tree: Path) -> None:
    async with serve(_app(tree, show_index=True)) as url:
        async with asyncio.timeout(5):  # a blocking open of the FIFO would hang here
            status, _ = await _curl(url + "/static/fifo")
    assert status == 403


async def test_show_index_escapes_names(tree: Path) -> None:
    async with serve(_app(tree, show_index=True)) as url:
        status, body = await _curl(url + "/static/")
        assert status == 200
        text = body.decode()
        assert "<b>" not in text.replace("<body>", "")
        assert html.escape("<b>&x.txt") in text
        assert 'href="/static/%3Cb%3E%26x.txt"' in text
        assert 'href="/static/sub/"' in text
        status, body = await _curl(url + "/static/sub/")
        assert status == 200 and b"page.html" in body
        assert (await _curl(url + "/static/%3Cb%3E%26x.txt")) == (200, b"odd")


async def test_append_version_adds_a_content_hash(tree: Path) -> None:
    app = _app(tree, append_version=True)
    resource = app.router["static"]
    url1 = resource.url_for(filename="hello.txt")
    assert url1.path == "/static/hello.txt" and len(url1.query["v"]) >= 40
    plain = resource.url_for(filename="hello.txt", append_version=False)
    assert "v" not in plain.query
    (tree / "hello.txt").write_text("changed\n")
    assert resource.url_for(filename="hello.txt").query["v"] != url1.query["v"]
    assert "v" not in resource.url_for(filename="missing.txt").query
    async with serve(app) as base:
        assert await _curl(base + str(resource.url_for(filename="hello.txt"))) == (
            200,
            b"changed\n",
        )


async def test_methods_and_missing_directory(tree: Path) -> None:
    with pytest.raises(ValueError):
        web.Application().router.add_static("/s", tree / "nope")
    async with serve(_app(tree)) as url, httpx.AsyncClient() as client:
        assert (await client.post(f"{url}/static/hello.txt")).status_code == 405
        assert (await client.get(f"{url}/static/missing")).status_code == 404
