"""request.post() with multipart bodies and request.multipart(), over real sockets (httpx)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from surge import web
from surge.net.multipart import BodyPartReader
from surge.server import forms
from tests.helpers import serve


def post_app(handler: Any, **kwargs: Any) -> web.Application:
    app = web.Application(**kwargs)
    app.router.add_post("/", handler)
    return app


async def describe_form(request: web.Request) -> web.Response:
    form = await request.post()
    out: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            content = value.file.read()
            out.setdefault(name, []).append(
                {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(content),
                    "head": content[:20].decode("latin-1"),
                    "disposition": value.headers["Content-Disposition"],
                    "on_disk": bool(getattr(value.file, "_rolled", False)),
                }
            )
            value.file.close()
        else:
            out.setdefault(name, []).append(value)
    return web.json_response(out)


async def test_multipart_post_fields_and_files() -> None:
    async with serve(post_app(describe_form)) as base, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{base}/",
            data={"username": "ann é", "tag": ["a", "b"]},
            files=[
                ("avatar", ("me.png", b"\x89PNG\r\n--\r\n" + b"\x00" * 5000, "image/png")),
                ("doc", ("r\u00e9sum\u00e9.txt", b"hello", "text/plain")),
            ],
        )
    assert resp.status_code == 200
    data = resp.json()
    assert data["username"] == ["ann é"] and data["tag"] == ["a", "b"]
    avatar = data["avatar"][0]
    assert (avatar["filename"], avatar["content_type"], avatar["size"]) == (
        "me.png",
        "image/png",
        5010,
    )
    assert avatar["head"].startswith("\x89PNG\r\n--\r\n")
    assert 'name="avatar"' in avatar["disposition"]
    assert data["doc"][0]["filename"] == "résumé.txt" and data["doc"][0]["size"] == 5


async def test_large_upload_spools_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forms, "SPOOL_THRESHOLD", 1000)
    async with serve(post_app(describe_form)) as base, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{base}/",
            files={"small": ("s.bin", b"x" * 100), "big": ("b.bin", b"y" * 300_000)},
        )
    data = resp.json()
    assert data["small"][0]["on_disk"] is False and data["small"][0]["size"] == 100
    assert data["big"][0]["on_disk"] is True and data["big"][0]["size"] == 300_000


async def test_whole_form_counts_against_client_max_size() -> None:
    async with (
        serve(post_app(describe_form, client_max_size=10_000)) as base,
        httpx.AsyncClient() as client,
    ):
        ok = await client.post(f"{base}/", files={"f": ("a", b"z" * 4000)})
        # Each part fits, the form does not.
        too_big = await client.post(
            f"{base}/",
            files=[("f", ("a", b"z" * 4000)), ("g", ("b", b"z" * 4000)), ("h", ("c", b"z" * 4000))],
        )
    assert ok.status_code == 200 and ok.json()["f"][0]["size"] == 4000
    assert too_big.status_code == 413


async def test_malformed_multipart_is_400() -> None:
    async with serve(post_app(describe_form)) as base, httpx.AsyncClient() as client:
        no_boundary = await client.post(
            f"{base}/", content=b"abc", headers={"Content-Type": "multipart/form-data"}
        )
        truncated = await client.post(
            f"{base}/",
            content=b'--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue without end',
            headers={"Content-Type": "multipart/form-data; boundary=xx"},
        )
        follow = await client.post(f"{base}/", data={"a": "1"})  # the server is still fine
    assert no_boundary.status_code == 400
    assert truncated.status_code == 400
    assert follow.json() == {"a": ["1"]}


async def test_streaming_multipart_reader_in_handler() -> None:
    async def handler(request: web.Request) -> web.Response:
        reader = await request.multipart()
        parts = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            size = 0
            while chunk := await part.read_chunk(1000):
                size += len(chunk)
            parts.append([part.name, part.filename, size, part.at_eof()])
        return web.json_response(parts)

    async with serve(post_app(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{base}/", data={"field": "v"}, files={"blob": ("blob.bin", b"\r" * 70_000)}
        )
    assert resp.json() == [["field", None, 1, True], ["blob", "blob.bin", 70_000, True]]


async def test_nested_mixed_files_under_one_field() -> None:
    body = (
        b"--AaB03x\r\n"
        b'Content-Disposition: form-data; name="submit-name"\r\n\r\n'
        b"Larry\r\n"
        b"--AaB03x\r\n"
        b'Content-Disposition: form-data; name="files"\r\n'
        b"Content-Type: multipart/mixed; boundary=BbC04y\r\n\r\n"
        b"--BbC04y\r\n"
        b'Content-Disposition: file; filename="file1.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"... contents of file1.txt ...\r\n"
        b"--BbC04y\r\n"
        b'Content-Disposition: file; filename="file2.gif"\r\n'
        b"Content-Type: image/gif\r\n\r\n"
        b"...contents of file2.gif...\r\n"
        b"--BbC04y--\r\n"
        b"--AaB03x--\r\n"
    )
    async with serve(post_app(describe_form)) as base, httpx.AsyncClient() as client:
        resp = await client.post(
            f"{base}/",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=AaB03x"},
        )
    data = resp.json()
    assert data["submit-name"] == ["Larry"]
    assert [(f["filename"], f["content_type"], f["size"]) for f in data["files"]] == [
        ("file1.txt", "text/plain", 29),
        ("file2.gif", "image/gif", 27),
    ]


async def test_post_after_body_was_read() -> None:
    async def handler(request: web.Request) -> web.Response:
        raw = await request.read()  # e.g. a middleware that logged the body
        form = await request.post()
        upload = form["f"]
        assert isinstance(upload, web.FileField)
        return web.json_response(
            {"raw": len(raw), "a": form["a"], "f": upload.file.read().decode()}
        )

    async with serve(post_app(handler)) as base, httpx.AsyncClient() as client:
        resp = await client.post(f"{base}/", data={"a": "1"}, files={"f": ("f.txt", b"data")})
    body = resp.json()
    assert body["a"] == "1" and body["f"] == "data" and body["raw"] > 100
