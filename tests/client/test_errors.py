"""One test per error path: connecting, malformed responses, timeouts, refused input."""

from __future__ import annotations

import asyncio
import gzip
import socket

import pytest

import surge
from tests.client.servers import RawServer, raw_server, read_head, read_request, reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_port_is_client_connector_error() -> None:
    port = _free_port()
    async with surge.ClientSession() as s:
        with pytest.raises(surge.ClientConnectorError) as info:
            await s.get(f"http://127.0.0.1:{port}/")
    assert info.value.port == port and info.value.host == "127.0.0.1"
    assert isinstance(info.value.os_error, ConnectionRefusedError)


async def test_spec_retry_loop_catches_refused_connection() -> None:
    port = _free_port()
    attempts = 0
    with pytest.raises(surge.ClientConnectorError):
        for attempt in range(2):
            try:
                async with surge.ClientSession() as s, s.get(f"http://127.0.0.1:{port}") as r:
                    await r.json()
            except surge.ClientConnectorError:
                attempts += 1
                if attempt == 1:
                    raise
    assert attempts == 2


class FailingResolver:
    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_dns_failure_is_client_connector_dns_error() -> None:
    connector = surge.TCPConnector(resolver=FailingResolver())
    async with surge.ClientSession(connector=connector) as s:
        with pytest.raises(surge.ClientConnectorDNSError) as info:
            await s.get("http://no-such-host.example/")
    assert info.value.host == "no-such-host.example"


async def test_dns_cache_resolves_once() -> None:
    calls = []

    class CountingResolver:
        async def resolve(
            self, host: str, port: int = 0, family: int = 0
        ) -> list[dict[str, object]]:
            calls.append(host)
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": 0,
                }
            ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(reply(200, b"ok", {"Connection": "close"}))

    async with raw_server(handler) as srv:
        connector = surge.TCPConnector(resolver=CountingResolver(), ttl_dns_cache=60)
        async with surge.ClientSession(connector=connector) as s:
            for _ in range(3):
                async with s.get(f"http://my.host:{srv.port}/") as resp:
                    assert await resp.text() == "ok"
    assert calls == ["my.host"]


async def test_invalid_urls() -> None:
    async with surge.ClientSession() as s:
        with pytest.raises(surge.InvalidUrlClientError):
            await s.get("/relative/without/base")
        with pytest.raises(surge.NonHttpUrlClientError):
            await s.get("ftp://example.org/file")
        with pytest.raises(surge.InvalidURL):
            await s.get("http:///nohost")


async def _one_response(raw: bytes, srv_box: list[RawServer] | None = None) -> bytes:
    return raw


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"HTTX/1.1 200 OK\r\n\r\n", surge.ClientResponseError),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n", surge.ClientResponseError),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            surge.ClientResponseError,
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", surge.ClientPayloadError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", surge.ClientPayloadError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", surge.ClientPayloadError),
        (b"", surge.ServerDisconnectedError),
        (b"HTTP/1.1 200 OK\r\nContent-", surge.ServerDisconnectedError),
    ],
    ids=[
        "bad-status-line",
        "oversize-header",
        "duplicate-content-length",
        "body-shorter-than-content-length",
        "bad-chunk-size",
        "chunked-cut-short",
        "closed-before-response",
        "closed-mid-head",
    ],
)
async def test_malformed_responses(raw: bytes, error: type[Exception]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(raw)
        await writer.drain()

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        with pytest.raises(error):
            async with s.get(srv.url) as resp:
                await resp.read()
        connector = s.connector
        assert isinstance(connector, surge.TCPConnector)
        assert connector._pool == {}  # nothing poisoned went back to the pool


async def test_body_longer_than_content_length_does_not_poison_the_pool() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA-GARBAGE")
        await writer.drain()
        await reader.read()

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        for _ in range(2):
            async with s.get(srv.url) as resp:
                assert await resp.read() == b"ok"
    assert srv.connections == 2  # the first connection, past its garbage, was not reused


async def test_sock_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(5)

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        with pytest.raises(surge.SocketTimeoutError):
            await s.get(srv.url, timeout=surge.ClientTimeout(sock_read=0.05))


async def test_sock_read_timeout_during_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        await asyncio.sleep(5)

    async with (
        raw_server(handler) as srv,
        surge.ClientSession() as s,
        s.get(srv.url, timeout=surge.ClientTimeout(sock_read=0.05)) as resp,
    ):
        with pytest.raises(surge.SocketTimeoutError):
            await resp.read()


async def test_total_timeout_is_a_timeout_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(5)

    async with (
        raw_server(handler) as srv,
        surge.ClientSession(timeout=surge.ClientTimeout(total=0.05)) as s,
    ):
        with pytest.raises(asyncio.TimeoutError) as info:
            await s.get(srv.url)
    assert isinstance(info.value, surge.ServerTimeoutError)


async def test_total_timeout_covers_the_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        await asyncio.sleep(5)

    async with (
        raw_server(handler) as srv,
        surge.ClientSession() as s,
        s.get(srv.url, timeout=surge.ClientTimeout(total=0.1)) as resp,
    ):
        with pytest.raises(surge.ServerTimeoutError):
            await resp.read()


async def test_connect_timeout_while_waiting_for_the_pool() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        await asyncio.sleep(5)

    connector = surge.TCPConnector(limit=1)
    async with raw_server(handler) as srv, surge.ClientSession(connector=connector) as s:
        first = await s.get(srv.url)
        with pytest.raises(surge.ConnectionTimeoutError):
            await s.get(srv.url, timeout=surge.ClientTimeout(connect=0.05))
        first.close()


async def test_decompression_bomb_is_a_payload_error() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(reply(200, bomb, {"Content-Encoding": "gzip"}))
        await writer.drain()

    async with (
        raw_server(handler) as srv,
        surge.ClientSession(max_decompressed_size=100_000) as s,
        s.get(srv.url) as resp,
    ):
        with pytest.raises(surge.ClientPayloadError, match="exceeds the limit"):
            await resp.read()


async def test_corrupt_compressed_body_is_a_payload_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(reply(200, b"definitely not gzip", {"Content-Encoding": "gzip"}))

    async with raw_server(handler) as srv, surge.ClientSession() as s, s.get(srv.url) as resp:
        with pytest.raises(surge.ClientPayloadError):
            await resp.read()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"X-Evil": "a\r\nInjected: yes"}},
        {"headers": {"X-Evil": "a\nb"}},
        {"headers": {"X-Evil": "a\x00b"}},
        {"headers": {"X-Evil\r\nInjected": "yes"}},
        {"headers": {"Bad Name": "x"}},
    ],
    ids=["crlf-value", "lf-value", "nul-value", "crlf-name", "space-name"],
)
async def test_header_injection_refused_before_sending(kwargs: dict[str, object]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        srv.received.append(await reader.read(65536))

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        with pytest.raises(ValueError):
            await s.get(srv.url, **kwargs)  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
    assert srv.connections == 0 and srv.received == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET\r\nX: y", "/"),
        ("GET /x HTTP/1.1\r\n", "/"),
        ("GET", "/a\r\nInjected: yes"),
        ("GET", "/a\x00b"),
        ("GET", "/a\nb"),
    ],
    ids=["crlf-method", "request-line-in-method", "crlf-url", "nul-url", "lf-url"],
)
async def test_method_and_url_injection_refused(method: str, path: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        srv.received.append(await reader.read(65536))

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        with pytest.raises(ValueError):
            await s.request(method, srv.url + path)
    assert srv.connections == 0


async def test_session_header_injection_refused() -> None:
    with pytest.raises(ValueError):
        surge.ClientSession(headers={"X": "a\r\nb"})


async def test_request_with_body_read_to_the_end() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, body = await read_request(reader)
        writer.write(reply(200, body[::-1]))

    async with (
        raw_server(handler) as srv,
        surge.ClientSession() as s,
        s.post(srv.url, data=b"abc") as resp,
    ):
        assert await resp.read() == b"cba"


async def test_read_until_eof_false() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nunframed")
        await asyncio.sleep(5)

    async with (
        raw_server(handler) as srv,
        surge.ClientSession() as s,
        s.get(srv.url, read_until_eof=False) as resp,
    ):
        assert await resp.read() == b""
