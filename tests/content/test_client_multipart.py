"""Client multipart bodies (MultipartWriter, payloads, FormData) against surge's server and
against Python's http.server with a multipart parser written here."""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import surge
from surge import web
from surge.client.payloads import content_disposition_header
from surge.net.multipart import BodyPartReader
from tests.helpers import serve

# A server that reports every part it reads through request.multipart() -----------------------


async def _echo_parts(request: web.Request) -> web.Response:
    reader = await request.multipart()
    parts: list[dict[str, Any]] = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        data = await part.read(decode=True)
        parts.append(
            {
                "name": part.name,
                "filename": part.filename,
                "type": part.headers.get("Content-Type"),
                "data": data.decode("latin-1"),
            }
        )
    return web.json_response(
        {
            "parts": parts,
            "length": request.headers.get("Content-Length"),
            "chunked": request.headers.get("Transfer-Encoding"),
        }
    )


async def _echo_post(request: web.Request) -> web.Response:
    form = await request.post()
    out = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            out[name] = {
                "filename": value.filename,
                "type": value.content_type,
                "data": value.file.read().decode(),
            }
        else:
            out[name] = value
    return web.json_response(out)


def _app() -> web.Application:
    app = web.Application()
    app.router.add_post("/parts", _echo_parts)
    app.router.add_post("/post", _echo_post)
    return app


async def _chunks() -> AsyncIterator[bytes]:
    for i in range(3):
        await asyncio.sleep(0)
        yield f"chunk {i};".encode()


async def test_writer_parts_reach_surge_server(tmp_path: Path) -> None:
    upload = tmp_path / "report.txt"
    upload.write_bytes(b"file contents\n" * 100)
    with surge.MultipartWriter("form-data") as mp:
        text = mp.append("hello")
        text.set_content_disposition("form-data", name="greeting")
        mp.append_json({"a": [1, 2]}).set_content_disposition("form-data", name="doc")
        mp.append_form([("k", "v v"), ("x", "ü")]).set_content_disposition("form-data", name="form")
        raw = mp.append(b"\x00\x01\xff", {"Content-Type": "image/png"})
        raw.set_content_disposition("form-data", name="img", filename="naïve é.png")
        mp.append(upload.open("rb")).set_content_disposition(
            "form-data", name="upload", filename="report.txt"
        )
        mp.append(surge.AsyncIterablePayload(_chunks())).set_content_disposition(
            "form-data", name="stream"
        )
    assert len(mp) == 6 and mp.size is None  # the async iterable has no known size
    async with (
        serve(_app()) as url,
        surge.ClientSession() as session,
        session.post(url + "/parts", data=mp) as resp,
    ):
        assert resp.status == 200
        got = await resp.json()
    assert got["chunked"] == "chunked" and got["length"] is None
    parts = {p["name"]: p for p in got["parts"]}
    assert list(parts) == ["greeting", "doc", "form", "img", "upload", "stream"]
    assert parts["greeting"]["data"] == "hello"
    assert parts["greeting"]["type"] == "text/plain; charset=utf-8"
    assert json.loads(parts["doc"]["data"]) == {"a": [1, 2]}
    assert parts["doc"]["type"] == "application/json"
    assert parts["form"]["data"] == "k=v+v&x=%C3%BC"
    assert parts["img"]["filename"] == "naïve é.png"  # from filename*=utf-8''...
    assert parts["img"]["data"].encode("latin-1") == b"\x00\x01\xff"
    assert parts["upload"]["data"] == "file contents\n" * 100
    assert parts["stream"]["data"] == "chunk 0;chunk 1;chunk 2;"


async def test_in_memory_writer_has_exact_size_and_content_length() -> None:
    mp = surge.MultipartWriter("mixed", boundary="simple-boundary")
    mp.append("one")
    mp.append(surge.BytesPayload(b"two", content_type="application/x-two"))
    body = await mp.as_bytes()
    assert mp.size == len(body)
    assert body == (
        b"--simple-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\none\r\n"
        b"--simple-boundary\r\nContent-Type: application/x-two\r\n\r\ntwo\r\n"
        b"--simple-boundary--\r\n"
    )
    assert mp.headers["Content-Type"] == "multipart/mixed; boundary=simple-boundary"
    assert [type(p).__name__ for p, _, _ in mp] == ["StringPayload", "BytesPayload"]
    async with (
        serve(_app()) as url,
        surge.ClientSession() as session,
        session.post(url + "/parts", data=mp) as resp,
    ):
        got = await resp.json()
    assert got["length"] == str(len(body)) and got["chunked"] is None
    assert [p["data"] for p in got["parts"]] == ["one", "two"]


async def test_part_encodings_are_applied_and_decoded_by_the_server() -> None:
    mp = surge.MultipartWriter("form-data")
    data = b"compress me " * 200
    mp.append(data, {"Content-Encoding": "gzip"}).set_content_disposition("form-data", name="gz")
    mp.append(data, {"Content-Transfer-Encoding": "base64"}).set_content_disposition(
        "form-data", name="b64"
    )
    wire = await mp.as_bytes()
    assert base64.b64encode(data) in wire and data not in wire
    assert mp.size is None
    async with (
        serve(_app()) as url,
        surge.ClientSession() as session,
        session.post(url + "/parts", data=mp) as resp,
    ):
        got = await resp.json()
    assert [p["data"].encode("latin-1") for p in got["parts"]] == [data, data]
    with pytest.raises(RuntimeError):
        mp.append(b"x", {"Content-Encoding": "snappy"})


async def test_formdata_and_spec_file_upload(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("spec upload\n")
    async with serve(_app()) as url, surge.ClientSession() as session:
        with path.open("rb") as f:  # the spec's data={'file': open('file.txt', 'rb')}
            async with session.post(url + "/post", data={"file": f}) as resp:
                got = await resp.json()
        assert got == {
            "file": {
                "filename": "file.txt",
                "type": "application/octet-stream",
                "data": "spec upload\n",
            }
        }
        form = surge.FormData()
        form.add_field("title", "résumé")
        form.add_field("doc", b"%PDF-1.4", filename="résumé.pdf", content_type="application/pdf")
        form.add_field("note", surge.StringPayload("from a payload"))
        form.add_field("iter", surge.AsyncIterablePayload(_chunks()), filename="it.bin")
        async with session.post(url + "/post", data=form) as resp:
            got = await resp.json()
    assert got["title"] == "résumé"
    assert got["doc"] == {"filename": "résumé.pdf", "type": "application/pdf", "data": "%PDF-1.4"}
    assert got["note"] == "from a payload"
    assert got["iter"]["data"] == "chunk 0;chunk 1;chunk 2;"


def test_payload_kinds_and_headers(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"12345")
    with path.open("rb") as f:
        payload = surge.get_payload(f)
        assert type(payload).__name__ == "BufferedReaderPayload"
        assert payload.size == 5
        assert payload.headers["Content-Disposition"] == 'attachment; filename="a.bin"'
    assert type(surge.get_payload(io.BytesIO(b"xy"))).__name__ == "BytesIOPayload"
    assert surge.get_payload(io.BytesIO(b"xy")).size == 2
    assert type(surge.get_payload(io.StringIO("s"))).__name__ == "StringIOPayload"
    assert type(surge.get_payload(_chunks())).__name__ == "AsyncIterablePayload"
    assert surge.StringPayload("é", encoding="latin-1").decode() == "é"
    assert surge.StringPayload("x").content_type == "text/plain; charset=utf-8"
    assert surge.JsonPayload({"a": 1}).decode() == '{"a": 1}'
    with pytest.raises(TypeError):
        surge.MultipartWriter().append(object())
    with pytest.raises(ValueError):
        surge.MultipartWriter(boundary="ü")
    assert surge.MultipartWriter(boundary="a b").headers["Content-Type"] == (
        'multipart/mixed; boundary="a b"'
    )
    with pytest.raises(ValueError):  # no header injection through a part header
        surge.MultipartWriter().append(b"x", {"X-Evil": "a\r\nContent-Type: text/html"})


def test_content_disposition_values() -> None:
    assert content_disposition_header("form-data", name="f", filename="a.txt") == (
        'form-data; name="f"; filename="a.txt"'
    )
    assert content_disposition_header("form-data", name="f", filename="naïve.txt") == (
        'form-data; name="f"; filename="na%C3%AFve.txt"; filename*=utf-8\'\'na%C3%AFve.txt'
    )
    assert content_disposition_header("attachment", quote_fields=False, filename='a"b') == (
        'attachment; filename="a\\"b"'
    )
    with pytest.raises(ValueError):
        content_disposition_header("form-data", name="a\r\nb")
    with pytest.raises(ValueError):
        content_disposition_header("bad type")


# An independent server: http.server with a multipart parser of our own ---------------------


def _parse_multipart(body: bytes, ctype: str) -> list[tuple[dict[str, str], bytes]]:
    boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
    assert body.endswith(b"--" + boundary + b"--\r\n")
    sections = body.split(b"--" + boundary)
    assert sections[0] == b"" and sections[-1] == b"--\r\n"
    parts = []
    for section in sections[1:-1]:
        assert section.startswith(b"\r\n") and section.endswith(b"\r\n")
        head, _, content = section[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        parts = _parse_multipart(body, self.headers["Content-Type"])
        type(self).received = parts
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_writer_against_http_server(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n" * 5000)
    mp = surge.MultipartWriter("form-data")
    mp.append("value").set_content_disposition("form-data", name="field")
    mp.append(path.open("rb")).set_content_disposition(
        "form-data", name="file", filename="données.csv"
    )
    with _http_server() as url:
        async with (
            surge.ClientSession() as session,
            session.post(url + "/", data=mp) as resp,
        ):
            assert resp.status == 200 and await resp.read() == b"ok"
    (h1, c1), (h2, c2) = _Recorder.received
    assert h1["content-disposition"] == 'form-data; name="field"' and c1 == b"value"
    disposition = h2["content-disposition"]
    assert 'filename="donn%C3%A9es.csv"' in disposition
    assert unquote(disposition.split("filename*=utf-8''")[1]) == "données.csv"
    assert c2 == path.read_bytes()


async def test_gzip_part_against_http_server() -> None:
    mp = surge.MultipartWriter("mixed")
    mp.append(b"zip " * 100, {"Content-Encoding": "gzip", "Content-Type": "text/plain"})
    with _http_server() as url:
        async with (
            surge.ClientSession() as session,
            session.post(url + "/", data=mp) as resp,
        ):
            assert resp.status == 200
    [(headers, content)] = _Recorder.received
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(content) == b"zip " * 100
