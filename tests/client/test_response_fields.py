"""Parsed response fields: links, content disposition, raw headers; and the public names."""

from __future__ import annotations

import asyncio

import surge
from tests.client.servers import raw_server, read_head


async def test_links_content_disposition_and_raw_headers() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
            b'Link: </page/2>; rel="next", <https://ex.org/1>; rel="prev"\r\n'
            b"Content-Disposition: attachment; filename=\"r\xc3\xa9port.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n"
            b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok"
        )

    async with (
        raw_server(handler) as srv,
        surge.ClientSession() as s,
        s.get(srv.url + "/page/1") as resp,
    ):
        links = resp.links
        assert str(links["next"]["url"]) == srv.url + "/page/2"
        assert str(links["prev"]["url"]) == "https://ex.org/1"
        disposition = resp.content_disposition
        assert disposition is not None and disposition.type == "attachment"
        assert disposition.filename == "résumé.txt"
        assert resp.raw_headers[0] == (b"Content-Length", b"2")
        assert resp.headers.getall("Set-Cookie") == ["a=1", "b=2"]
        assert {k: m.value for k, m in resp.cookies.items()} == {"a": "1", "b": "2"}
        assert resp.content_type == "application/octet-stream" and resp.charset is None
        assert await resp.read() == b"ok"


def test_public_names() -> None:
    expected = {
        "ClientSession",
        "request",
        "ClientTimeout",
        "TCPConnector",
        "UnixConnector",
        "BasicAuth",
        "ClientResponse",
        "CookieJar",
        "DummyCookieJar",
        "FormData",
        "ClientError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "TooManyRedirects",
        "StreamReader",
        "EMPTY_PAYLOAD",
        "EofStream",
        "hdrs",
    }
    assert expected <= set(surge.__all__)
    assert all(hasattr(surge, name) for name in surge.__all__)
