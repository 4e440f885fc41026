"""The surge server over HTTP/2, checked by independent clients: curl, httpx, nghttp."""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import tempfile
from typing import Any

import httpx

from surge import web
from tests.conftest import require_tool
from tests.h2.app import CHUNK, build_app
from tests.h2.helpers import run, serve_tls
from tests.helpers import serve


async def test_curl_prior_knowledge_json() -> None:
    curl = require_tool("curl")
    async with serve(build_app()) as url:
        rc, out, err = await run(
            curl, "-s", "--http2-prior-knowledge", "-w", "\n%{http_version}", f"{url}/info"
        )
    assert rc == 0, err
    body, version = out.rsplit(b"\n", 1)
    assert version == b"2"
    port = url.rsplit(":", 1)[1]
    assert json.loads(body) == {"version": [2, 0], "host": f"127.0.0.1:{port}", "method": "GET"}


async def test_curl_h2c_upgrade() -> None:
    curl = require_tool("curl")
    async with serve(build_app()) as url:
        rc, out, err = await run(
            curl, "-sv", "--http2", "-w", "\n%{http_version}", f"{url}/", f"{url}/info"
        )
    assert rc == 0, err
    assert b"101 Switching Protocols" in err
    # The upgraded request is answered on stream 1; the next one reuses the h2 connection.
    assert out.startswith(b"hello 2.0\n2")
    assert b'{"version": [2, 0]' in out
    assert err.count(b"Connected to") == 1


async def test_curl_tls_alpn() -> None:
    curl = require_tool("curl")
    with tempfile.TemporaryDirectory() as tmp:
        ca = os.path.join(tmp, "ca.pem")
        async with serve_tls(build_app(), ca) as (url, _):
            rc, out, err = await run(
                curl, "-s", "--http2", "--cacert", ca, "-w", "\n%{http_version}", f"{url}/"
            )
            rc1, out1, _ = await run(curl, "-s", "--http1.1", "--cacert", ca, f"{url}/")
    assert rc == 0, err
    assert out == b"hello 2.0\n2"
    assert (rc1, out1) == (0, b"hello 1.1")


async def test_http1_unchanged_when_http2_on() -> None:
    async with serve(build_app()) as url, httpx.AsyncClient() as client:
        r = await client.get(f"{url}/info")
    assert r.http_version == "HTTP/1.1"
    assert r.json()["version"] == [1, 1]


async def test_http2_off_refuses_preface() -> None:
    async with (
        serve(build_app(), http2=False) as url,
        httpx.AsyncClient(http1=False, http2=True) as client,
    ):
        try:
            await client.get(f"{url}/")
        except httpx.HTTPError:
            pass
        else:
            raise AssertionError("HTTP/2 prior knowledge worked with http2=False")


async def test_httpx_tls_features() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ca = os.path.join(tmp, "ca.pem")
        async with (
            serve_tls(build_app(), ca) as (url, ctx),
            httpx.AsyncClient(http2=True, verify=ctx) as client,
        ):
            r = await client.get(f"{url}/info")
            assert r.http_version == "HTTP/2"
            assert r.json()["version"] == [2, 0]
            assert email.utils.parsedate_to_datetime(r.headers["date"]).year >= 2024
            body = os.urandom(300_000)
            r = await client.post(f"{url}/echo", content=body)
            assert r.content == body
            r = await client.head(f"{url}/")
            assert r.status_code == 200 and r.content == b""
            assert r.headers["content-length"] == "9"
            r = await client.get(f"{url}/hop")
            assert r.text == "hop" and r.headers["x-kept"] == "yes"
            assert "connection" not in r.headers and "keep-alive" not in r.headers
            r = await client.get(f"{url}/stream", params={"n": 100})
            assert r.content == CHUNK * 100


async def test_httpx_prior_knowledge_many_streams_one_connection() -> None:
    state: dict[str, Any] = {}
    async with serve(build_app(state)) as url, httpx.AsyncClient(http1=False, http2=True) as client:
        responses = await asyncio.gather(
            *(client.get(f"{url}/slow", params={"i": i}) for i in range(60))
        )
    assert [r.text for r in responses] == [str(i) for i in range(60)]
    assert all(r.http_version == "HTTP/2" for r in responses)
    assert len(state["transports"]) == 1
    assert state["max_active"] > 1  # the streams ran concurrently


async def test_httpx_streaming_download_with_flow_control() -> None:
    # 4 MiB is far beyond the 64 KiB default window: it only arrives if the server sends
    # as the client's WINDOW_UPDATEs come in.
    size = 0
    async with (
        serve(build_app()) as url,
        httpx.AsyncClient(http1=False, http2=True) as client,
        client.stream("GET", f"{url}/stream", params={"n": 256}) as r,
    ):
        async for part in r.aiter_bytes():
            size += len(part)
    assert size == len(CHUNK) * 256


async def test_nghttp_concurrent_and_upload() -> None:
    nghttp = require_tool("nghttp")
    async with serve(build_app()) as url:
        rc, out, err = await run(nghttp, "-n", "-s", "-m", "20", f"{url}/")
        assert rc == 0, err
        assert out.count(b" 200 ") == 20
        with tempfile.NamedTemporaryFile() as f:
            data = os.urandom(200_000)
            f.write(data)
            f.flush()
            rc, out, err = await run(nghttp, "-d", f.name, f"{url}/echo")
        assert rc == 0, err
        assert out == data
        rc, out, err = await run(nghttp, "-u", f"{url}/info")  # h2c upgrade
        assert rc == 0, err
        assert json.loads(out)["version"] == [2, 0]


async def test_handler_error_resets_only_its_stream() -> None:
    app = web.Application()

    async def broken(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"partial")
        raise RuntimeError("boom")

    async def fine(request: web.Request) -> web.Response:
        return web.Response(text="fine")

    app.router.add_get("/broken", broken)
    app.router.add_get("/fine", fine)
    async with serve(app) as url, httpx.AsyncClient(http1=False, http2=True) as client:
        try:
            await client.get(f"{url}/broken")
        except httpx.HTTPError:
            pass
        else:
            raise AssertionError("a broken stream completed")
        r = await client.get(f"{url}/fine")
        assert r.text == "fine"
        r = await client.get(f"{url}/missing")
        assert r.status_code == 404


async def test_file_response_over_h2(tmp_path: Any) -> None:
    data = os.urandom(1_500_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    app = web.Application()

    async def file(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path)

    app.router.add_get("/file", file)
    async with serve(app) as url, httpx.AsyncClient(http1=False, http2=True) as client:
        r = await client.get(f"{url}/file")
        assert r.http_version == "HTTP/2"
        assert r.content == data
        r = await client.get(f"{url}/file", headers={"Range": "bytes=1000-1999"})
        assert r.status_code == 206 and r.content == data[1000:2000]
        r = await client.get(f"{url}/file", headers={"If-None-Match": r.headers["etag"]})
        assert r.status_code == 304 and r.content == b""
