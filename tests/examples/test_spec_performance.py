"""The spec's Performance examples not covered elsewhere (Keepalive is in test_spec_client.py):
the streaming upload handler checked with httpx, compression both ways."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.examples.loader import load
from tests.examples.local_server import Seen, local_server
from tests.helpers import serve

API = "https://api.example.com"


async def test_streaming_upload_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ns = load("streaming_upload")
    from surge import web

    app = web.Application()  # client_max_size (1 MiB) bounds read(), not a streamed body
    app.router.add_post("/upload", ns["upload_handler"])
    payload = os.urandom(5 * 1024 * 1024 + 123)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 256 * 1024):
            yield payload[start : start + 256 * 1024]

    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.post("/upload", content=chunks())  # chunked
        assert (r.status_code, r.text) == (200, "Uploaded")
        assert (tmp_path / "uploaded.file").read_bytes() == payload
        r = await client.post("/upload", content=payload[:3_000_000])  # Content-Length
        assert (r.status_code, r.text) == (200, "Uploaded")
        assert (tmp_path / "uploaded.file").read_bytes() == payload[:3_000_000]


async def test_server_compresses_automatically() -> None:
    """ "Server handles compression automatically": a large JSON answer to a client accepting
    gzip arrives gzip-encoded and decodes to the same document."""
    ns = load("compression")
    web = ns["web"]
    document = {"items": [{"id": i, "name": f"item {i}"} for i in range(2000)]}

    async def data(request: object) -> object:
        return web.json_response(document)

    app = web.Application()
    app.router.add_get("/data", data)
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        headers = {"Accept-Encoding": "gzip, deflate"}
        async with client.stream("GET", "/data", headers=headers) as r:
            raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.headers["content-encoding"] == "gzip"
        assert len(raw) < len(json.dumps(document)) // 4
        assert json.loads(gzip.decompress(raw)) == document
        plain = await client.get("/data", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.json() == document


def test_client_requests_compressed_content() -> None:
    document = {"items": list(range(5000))}

    def data(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        body = gzip.compress(json.dumps(document).encode())
        return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, body

    with local_server({"/data": data}) as api:
        ns = load("compression", keep_locals=("fetch_compressed",), **{API: api.url})
        asyncio.run(ns["fetch_compressed"]())
        assert [s.headers["Accept-Encoding"] for s in api.seen] == ["gzip, deflate"]
    response = ns["spec_locals"]["fetch_compressed"]["response"]
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
