"""FileResponse checked with curl and raw sockets: validators, 304/412, ranges, siblings, fds."""

from __future__ import annotations

import asyncio
import gzip
import os
import zlib
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from surge import web
from tests.conftest import require_tool
from tests.helpers import serve


async def _curl(*args: str) -> tuple[int, dict[str, str], bytes]:
    curl = require_tool("curl")
    proc = await asyncio.create_subprocess_exec(
        curl, "-s", "-D", "-", "-o", "-", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _file_app(path: Path, **kwargs: object) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path, **kwargs)  # type: ignore[arg-type]

    app = web.Application()
    app.router.add_get("/f", handler)
    return app


async def test_conditional_requests(tree: Path) -> None:
    path = tree / "hello.txt"
    async with serve(_file_app(path)) as url:
        status, headers, body = await _curl(url + "/f")
        assert status == 200 and body == b"hello world\n"
        etag, modified = headers["etag"], headers["last-modified"]
        assert headers["accept-ranges"] == "bytes"
        status, _, body = await _curl("-H", f"If-None-Match: {etag}", url + "/f")
        assert status == 304 and body == b""
        status, _, _ = await _curl("-H", 'If-None-Match: "other", W/' + etag, url + "/f")
        assert status == 304  # weak comparison for If-None-Match
        status, _, _ = await _curl("-H", 'If-None-Match: "other"', url + "/f")
        assert status == 200
        status, _, _ = await _curl("-H", f"If-Modified-Since: {modified}", url + "/f")
        assert status == 304
        status, _, _ = await _curl(
            "-H", "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", url + "/f"
        )
        assert status == 200
        status, _, _ = await _curl("-H", 'If-Match: "nope"', url + "/f")
        assert status == 412
        status, _, body = await _curl("-H", f"If-Match: {etag}", url + "/f")
        assert status == 200 and body == b"hello world\n"
        status, _, _ = await _curl(
            "-H", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT", url + "/f"
        )
        assert status == 412
        future = formatdate(os.stat(path).st_mtime + 3600, usegmt=True)
        status, _, _ = await _curl("-H", f"If-Unmodified-Since: {future}", url + "/f")
        assert status == 200


async def test_ranges(tree: Path) -> None:
    path = tree / "big.bin"
    data = path.read_bytes()
    size = len(data)
    async with serve(_file_app(path)) as url:
        status, headers, body = await _curl("-r", "100-199", url + "/f")
        assert status == 206 and body == data[100:200]
        assert headers["content-range"] == f"bytes 100-199/{size}"
        status, _, body = await _curl("-r", "-500", url + "/f")
        assert status == 206 and body == data[-500:]
        status, _, body = await _curl("-r", f"{size - 10}-", url + "/f")
        assert status == 206 and body == data[-10:]
        status, _, body = await _curl("-r", "1000-250000", url + "/f")  # not inlined: sendfile
        assert status == 206 and body == data[1000:250001]
        status, headers, body = await _curl("-r", f"{size}-", url + "/f")
        assert status == 416 and headers["content-range"] == f"bytes */{size}"
        status, headers, body = await _curl("-r", "0-9,20-29,25-39", url + "/f")
        assert status == 206
        ctype = headers["content-type"]
        assert ctype.startswith("multipart/byteranges; boundary=")
        boundary = ctype.split("boundary=")[1].encode()
        assert int(headers["content-length"]) == len(body)
        parts = body.split(b"--" + boundary)
        assert parts[-1] == b"--\r\n"
        payloads = [p.split(b"\r\n\r\n", 1)[1][:-2] for p in parts[1:-1]]
        assert payloads == [data[0:10], data[20:40]]  # overlapping ranges merged
        assert b"Content-Range: bytes 20-39/" in parts[2]
        etag = headers["etag"]
        status, _, body = await _curl("-r", "0-9", "-H", f"If-Range: {etag}", url + "/f")
        assert status == 206 and body == data[:10]
        status, _, body = await _curl("-r", "0-9", "-H", 'If-Range: "stale"', url + "/f")
        assert status == 200 and body == data
        status, _, body = await _curl("-H", "Range: items=0-9", url + "/f")
        assert status == 200 and body == data


async def test_whole_large_file_and_head(tree: Path) -> None:
    path = tree / "big.bin"
    async with serve(_file_app(path, chunk_size=8192)) as url:
        status, headers, body = await _curl(url + "/f")
        assert status == 200 and body == path.read_bytes()
        status, headers, body = await _curl("-I", url + "/f")
        assert status == 200 and headers["content-length"] == str(path.stat().st_size)


async def test_precompressed_siblings(tree: Path) -> None:
    path = tree / "app.js"
    source = b"console.log('hi');\n" * 100
    path.write_bytes(source)
    (tree / "app.js.gz").write_bytes(gzip.compress(source))
    async with serve(_file_app(path)) as url:
        status, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/f")
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert gzip.decompress(body) == source
        assert "javascript" in headers["content-type"]
        assert headers["vary"] == "Accept-Encoding"
        status, headers, body = await _curl("-H", "Accept-Encoding: br;q=1, gzip;q=0", url + "/f")
        assert "content-encoding" not in headers and body == source
        status, headers, body = await _curl(url + "/f")
        assert "content-encoding" not in headers and body == source


async def test_spec_content_disposition_and_missing_file(tree: Path) -> None:
    async def download(request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(tree / "hello.txt")
        response.headers["Content-Disposition"] = 'attachment; filename="file.txt"'
        return response

    app = web.Application()
    app.router.add_get("/d", download)
    app.router.add_get("/missing", lambda r: _missing(tree))
    async with serve(app) as url, httpx.AsyncClient() as client:
        resp = await client.get(f"{url}/d")
        assert resp.headers["content-disposition"] == 'attachment; filename="file.txt"'
        assert resp.content == b"hello world\n"
        assert (await client.get(f"{url}/missing")).status_code == 404


async def _missing(tree: Path) -> web.FileResponse:
    return web.FileResponse(tree / "nope.txt")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_disconnect_mid_file_leaves_no_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "huge.bin"
    with path.open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    done = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(path, chunk_size=65536)
        try:
            await response.prepare(request)
            return response
        finally:
            done.set()

    app = web.Application()
    app.router.add_get("/f", handler)
    async with serve(app) as url:
        port = int(url.rsplit(":", 1)[1])
        before = _open_fds()
        for _ in range(3):
            done.clear()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
            await reader.readexactly(100_000)
            writer.transport.abort()
            await asyncio.wait_for(done.wait(), 10)
        await asyncio.sleep(0.05)
        assert _open_fds() <= before


def _compressing_app(path: Path, force: web.ContentCoding | None = None) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.FileResponse(path, chunk_size=16384)
        resp.enable_compression(force)
        return resp

    app = web.Application()
    app.router.add_get("/f", handler)
    return app


async def test_enable_compression_compresses_on_the_fly(tmp_path: Path) -> None:
    import brotli

    small = tmp_path / "small.txt"
    small.write_bytes(b"hello compression\n" * 200)
    big = tmp_path / "big.txt"
    big.write_bytes(b"".join(b"line %d of a large text file\n" % i for i in range(20000)))
    for path in (small, big):  # the inline path and the streamed (chunked) path
        async with serve(_compressing_app(path)) as url:
            status, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/f")
            assert status == 200 and headers["content-encoding"] == "gzip"
            assert gzip.decompress(body) == path.read_bytes()
            assert headers["vary"] == "Accept-Encoding"
            assert "accept-ranges" not in headers
            etag = headers["etag"]
            assert etag.endswith('-gzip"')
            status, headers, body = await _curl("-H", "Accept-Encoding: br", url + "/f")
            assert headers["content-encoding"] == "br"
            assert brotli.decompress(body) == path.read_bytes()
            # revalidation with the compressed representation's own tag
            status, _, _ = await _curl(
                "-H", "Accept-Encoding: gzip", "-H", f"If-None-Match: {etag}", url + "/f"
            )
            assert status == 304
            # a Range is ignored for an on-the-fly coding: the whole file, compressed
            status, headers, body = await _curl(
                "-H", "Accept-Encoding: gzip", "-H", "Range: bytes=0-9", url + "/f"
            )
            assert status == 200 and gzip.decompress(body) == path.read_bytes()
            # a client that accepts no coding gets the file itself, ranges included
            status, headers, body = await _curl("-H", "Range: bytes=0-9", url + "/f")
            assert status == 206 and body == path.read_bytes()[:10]
            assert "content-encoding" not in headers


async def test_enable_compression_prefers_sibling_and_force(tmp_path: Path) -> None:
    path = tmp_path / "app.js"
    source = b"console.log('hi');\n" * 100
    path.write_bytes(source)
    sibling = gzip.compress(source, mtime=0)
    (tmp_path / "app.js.gz").write_bytes(sibling)
    async with serve(_compressing_app(path)) as url:
        _, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/f")
        assert headers["content-encoding"] == "gzip" and body == sibling  # the file on disk
        assert headers["content-length"] == str(len(sibling))
    async with serve(_compressing_app(path, web.ContentCoding.deflate)) as url:
        _, headers, body = await _curl(url + "/f")
        assert headers["content-encoding"] == "deflate"
        assert zlib.decompress(body) == source
    async with serve(_compressing_app(path, web.ContentCoding.identity)) as url:
        _, headers, body = await _curl("-H", "Accept-Encoding: gzip", url + "/f")
        assert headers["content-encoding"] == "gzip" and body == sibling
        _, headers, body = await _curl(url + "/f")
        assert "content-encoding" not in headers and body == source


def test_uvloop_sendfile_fast_and_slow_readers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """uvloop has no loop.sendfile: os.sendfile goes straight to its socket, in order after
    the head, also when the socket fills up (a reader that sips with a tiny window)."""
    import socket

    uvloop = pytest.importorskip("uvloop")
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    expected = path.read_bytes()

    def fetch_slowly(port: int) -> bytes:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            chunks = []
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        return b"".join(chunks)

    async def main() -> tuple[bytes, bytes, bytes]:
        async with serve(_file_app(path)) as url:
            port = int(url.rsplit(":", 1)[1])
            async with httpx.AsyncClient() as client:
                fast = (await client.get(url + "/f")).content
                ranged = (
                    await client.get(url + "/f", headers={"Range": "bytes=100-2000099"})
                ).content
            slow = await asyncio.get_running_loop().run_in_executor(None, fetch_slowly, port)
            return fast, ranged, slow

    fast, ranged, slow = uvloop.run(main())
    assert fast == expected
    assert ranged == expected[100:2000100]
    head, _, body = slow.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == expected
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # each response completed
