"""request.headers over HTTP/1.1: the same mapping whether the head arrived whole (read off its
bytes) or in pieces (collected field by field), and as a real client sent it."""

from __future__ import annotations

import asyncio
import json

import httpx

from surge import web
from tests.helpers import serve

HEAD = (
    b"GET /h HTTP/1.1\r\n"
    b"Host: example.test\r\n"
    b"X-Empty:\r\n"
    b"X-Spaces: \t padded value \t \r\n"
    b"X-Dup: one\r\n"
    b"x-dup: two\r\n"
    b"X-Utf8: caf\xc3\xa9\r\n"
    b"X-Latin: caf\xe9\r\n"
    b"X-Colons: a:b::c\r\n"
    b"Connection: close\r\n"
    b"\r\n"
)


def _app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        items = [
            [k, v.encode("utf-8", "surrogateescape").hex()] for k, v in request.headers.items()
        ]
        raw = [[k.hex(), v.hex()] for k, v in request.raw_headers]
        return web.json_response(
            {"items": items, "dup": request.headers.getall("X-DUP"), "raw": raw}
        )

    app = web.Application()
    app.router.add_get("/h", handler)
    return app


async def _send(port: int, pieces: list[bytes]) -> dict[str, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.005)  # separate reads on the server
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    return json.loads(body)  # type: ignore[no-any-return]


async def test_headers_are_the_same_whole_or_in_pieces() -> None:
    async with serve(_app()) as url:
        port = int(url.rsplit(":", 1)[1])
        whole = await _send(port, [HEAD])
        split = await _send(port, [HEAD[i : i + 9] for i in range(0, len(HEAD), 9)])
    assert whole == split
    items = {(k, bytes.fromhex(v)) for k, v in whole["items"]}  # type: ignore[union-attr]
    assert ("X-Empty", b"") in items
    assert ("X-Spaces", b"padded value") in items
    assert ("X-Utf8", "café".encode()) in items
    assert ("X-Latin", b"caf\xe9") in items  # not UTF-8: kept byte for byte
    assert ("X-Colons", b"a:b::c") in items
    assert whole["dup"] == ["one", "two"]
    raw = [(bytes.fromhex(k), bytes.fromhex(v)) for k, v in whole["raw"]]  # type: ignore[union-attr]
    assert raw[0] == (b"Host", b"example.test") and (b"x-dup", b"two") in raw
    assert len(raw) == 9


async def test_headers_from_httpx() -> None:
    async with serve(_app()) as url, httpx.AsyncClient() as client:
        answer = await client.get(url + "/h", headers={"X-Dup": "one", "X-Other": "v"})
    items = {k.lower(): bytes.fromhex(v) for k, v in answer.json()["items"]}
    assert items["x-other"] == b"v"
    assert items["host"] == url.removeprefix("http://").encode()
