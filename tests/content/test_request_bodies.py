"""Request bodies over real sockets with httpx and raw clients: Content-Encoding, bombs,
form size limits, malformed multipart, and a large streaming upload with flat memory."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import brotli
import httpx
import pytest
import zstandard

from surge import web
from tests.helpers import raw_exchange, serve


def _echo_app(**kwargs: int) -> web.Application:
    app = web.Application(**kwargs)

    async def digest(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(text=f"{len(body)} {hashlib.sha256(body).hexdigest()}")

    async def form(request: web.Request) -> web.Response:
        data = await request.post()
        sizes = {k: len(v) if isinstance(v, str) else len(v.file.read()) for k, v in data.items()}
        return web.json_response(sizes)

    async def parts(request: web.Request) -> web.Response:
        reader = await request.multipart()
        names = []
        async for part in reader:
            await part.read()
            names.append(part.name)
        return web.json_response(names)

    app.router.add_post("/digest", digest)
    app.router.add_post("/form", form)
    app.router.add_post("/parts", parts)
    return app


ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.mark.parametrize("coding", sorted(ENCODERS))
async def test_request_content_encoding_is_decoded(coding: str) -> None:
    body = os.urandom(1000) + b"a" * 200_000
    async with serve(_echo_app()) as url, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{url}/digest",
            content=ENCODERS[coding](body),
            headers={"Content-Encoding": coding},
        )
    assert resp.status_code == 200
    assert resp.text == f"{len(body)} {hashlib.sha256(body).hexdigest()}"


@pytest.mark.parametrize("coding", sorted(ENCODERS))
async def test_zip_bomb_is_413(coding: str) -> None:
    bomb = ENCODERS[coding](b"\0" * (64 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    async with serve(_echo_app()) as url, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{url}/digest", content=bomb, headers={"Content-Encoding": coding}
        )
    assert resp.status_code == 413


async def test_many_empty_gzip_members() -> None:
    members = gzip.compress(b"") * 100_000 + gzip.compress(b"ok")  # ~2 MB of nothing, then "ok"
    big = _echo_app(client_max_size=4 * 1024 * 1024)
    async with serve(big) as url, httpx.AsyncClient(timeout=30) as client:
        resp = await client.post(
            f"{url}/digest", content=members, headers={"Content-Encoding": "gzip"}
        )
        assert resp.text == f"2 {hashlib.sha256(b'ok').hexdigest()}"
    async with serve(_echo_app()) as url, httpx.AsyncClient() as client:
        resp = await client.post(  # more encoded bytes than client_max_size: refused
            f"{url}/digest", content=members, headers={"Content-Encoding": "gzip"}
        )
        assert resp.status_code == 413


async def test_bad_or_unknown_encoding() -> None:
    async with serve(_echo_app()) as url, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{url}/digest", content=b"not gzip at all", headers={"Content-Encoding": "gzip"}
        )
        assert resp.status_code == 400
        resp = await client.post(
            f"{url}/digest", content=b"x", headers={"Content-Encoding": "compress"}
        )
        assert resp.status_code == 415


async def test_client_max_size_counts_the_whole_form() -> None:
    field = "x" * 400_000
    async with serve(_echo_app()) as url, httpx.AsyncClient() as client:
        ok = await client.post(f"{url}/form", data={"a": field, "b": field})
        assert ok.status_code == 200 and ok.json() == {"a": 400_000, "b": 400_000}
        too_big = await client.post(f"{url}/form", data={"a": field, "b": field, "c": field})
        assert too_big.status_code == 413
        files = {f"f{i}": (f"f{i}.bin", b"y" * 400_000) for i in range(3)}
        assert (await client.post(f"{url}/form", files=files)).status_code == 413
        small = {"f": ("é名.txt", b"data", "text/plain")}
        resp = await client.post(f"{url}/form", files=small)
        assert resp.status_code == 200 and resp.json() == {"f": 4}


def _multipart(body: bytes, boundary: str = "XyZ", path: str = "/parts") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


PART = b'Content-Disposition: form-data; name="a"\r\n'
MALFORMED = {
    "missing boundary": (
        b"POST /form HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: multipart/form-data\r\nContent-Length: 5\r\n\r\nhello"
    ),
    "wrong boundary": _multipart(b"--Other\r\n" + PART + b"\r\nv\r\n--Other--\r\n"),
    "truncated part": _multipart(b"--XyZ\r\n" + PART + b"\r\nvalue without end"),
    "part length longer than data": _multipart(
        b"--XyZ\r\n" + PART + b"Content-Length: 1000\r\n\r\nshort\r\n--XyZ--\r\n"
    ),
    "10000 part headers": _multipart(
        b"--XyZ\r\n" + PART + b"X-A: b\r\n" * 10_000 + b"\r\nv\r\n--XyZ--\r\n"
    ),
    "100 KB part header": _multipart(
        b"--XyZ\r\n" + PART + b"X-Big: " + b"a" * 100_000 + b"\r\n\r\nv\r\n--XyZ--\r\n"
    ),
    "endless base64 whitespace": _multipart(
        b"--XyZ\r\n"
        + PART
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + b" \r\n" * 1_000_000
        + b"\r\n--XyZ--\r\n"
    ),
}


# A handler's own ``part.read()`` has no size bound (as in aiohttp), so the endless-whitespace
# case is checked through ``request.post()``, which counts against client_max_size.
@pytest.mark.parametrize(
    ("case", "path"),
    [
        (case, path)
        for case in sorted(MALFORMED)
        for path in ("/parts", "/form")
        if not (path == "/parts" and case == "endless base64 whitespace")
    ],
)
async def test_malformed_multipart_is_refused(case: str, path: str) -> None:
    request = MALFORMED[case].replace(b"POST /parts ", f"POST {path} ".encode(), 1)
    async with serve(_echo_app()) as url:
        reply = await raw_exchange(int(url.rsplit(":", 1)[1]), request, timeout=5)
    status = reply.split(b" ", 2)[1]
    assert status in (b"400", b"413"), (case, reply[:200])


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_streaming_upload_keeps_memory_flat(tmp_path: Path) -> None:
    target = tmp_path / "uploaded.file"

    async def upload_handler(request: web.Request) -> web.Response:
        reader = request.content
        with target.open("wb") as f:
            while True:
                chunk = await reader.read(1024 * 1024)
                if not chunk:
                    break
                f.write(chunk)
        return web.Response(text="Uploaded")

    total = 256 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    peak = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal peak
        for _ in range(total // len(block)):
            peak = max(peak, _rss())
            yield block

    app = web.Application()
    app.router.add_post("/upload", upload_handler)
    async with serve(app) as url, httpx.AsyncClient(timeout=60) as client:
        before = _rss()
        resp = await client.post(f"{url}/upload", content=body())
    assert resp.status_code == 200 and resp.text == "Uploaded"
    assert target.stat().st_size == total
    assert peak - before < 48 * 1024 * 1024  # flat: a few buffers, not the body
