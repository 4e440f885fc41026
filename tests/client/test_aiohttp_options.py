"""aiohttp's remaining ClientSession/TCPConnector options, each against an independent peer:
certificate pinning (``fingerprint``), the deprecated ssl and timeout spellings,
``fallback_charset_resolver``, ``request_class``/``response_class``/``ws_response_class``,
``json_serialize_bytes``, ``socket_factory``, and ``client_notakeover``."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme

import surge
from surge import web
from tests.client.servers import raw_server, read_head, read_request, reply
from tests.helpers import serve

# -- TLS --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def tls_server(cert: trustme.LeafCert) -> AsyncIterator[int]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await read_request(reader)
                writer.write(reply(200, b"pinned"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _digest(cert: trustme.LeafCert) -> bytes:
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    return hashlib.sha256(der).digest()


async def test_fingerprint_pins_the_server_certificate() -> None:
    cert = trustme.CA().issue_cert("localhost")
    async with tls_server(cert) as port:
        url = f"https://localhost:{port}/"
        with pytest.warns(DeprecationWarning, match="fingerprint is deprecated"):
            good = surge.TCPConnector(fingerprint=_digest(cert))
        # The certificate is not signed by a trusted CA: the pin alone lets it through.
        async with surge.ClientSession(connector=good) as s, s.get(url) as resp:
            assert (resp.status, await resp.read()) == (200, b"pinned")
        with pytest.warns(DeprecationWarning):
            bad = surge.TCPConnector(fingerprint=hashlib.sha256(b"another cert").digest())
        async with surge.ClientSession(connector=bad) as s:
            with pytest.raises(surge.ServerFingerprintMismatch) as info:
                await s.get(url)
        assert info.value.expected == hashlib.sha256(b"another cert").digest()
        assert info.value.got == _digest(cert)
        # The same pin as a per-request argument.
        async with surge.ClientSession() as s:
            with pytest.warns(DeprecationWarning):
                resp = await s.get(url, fingerprint=_digest(cert))
            assert await resp.read() == b"pinned"


async def test_verify_ssl_and_ssl_context_are_the_old_spellings_of_ssl() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    async with tls_server(cert) as port:
        url = f"https://localhost:{port}/"
        async with surge.ClientSession() as s:
            with pytest.raises(surge.ClientConnectorCertificateError):
                await s.get(url)
        with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated"):
            unverified = surge.TCPConnector(verify_ssl=False)
        async with surge.ClientSession(connector=unverified) as s, s.get(url) as resp:
            assert await resp.read() == b"pinned"
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        with pytest.warns(DeprecationWarning, match="ssl_context is deprecated"):
            trusting = surge.TCPConnector(ssl_context=ctx)
        async with surge.ClientSession(connector=trusting) as s, s.get(url) as resp:
            assert await resp.read() == b"pinned"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="mutually exclusive"):
        surge.TCPConnector(verify_ssl=False, ssl=ctx)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="sha256"):
        surge.TCPConnector(fingerprint=b"x" * 20)  # a SHA-1 digest


async def test_ssl_shutdown_timeout_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout"):
        connector = surge.TCPConnector(ssl_shutdown_timeout=1.0)
    await connector.close()
    with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout"):
        session = surge.ClientSession(ssl_shutdown_timeout=0)
    await session.close()


# -- session options ----------------------------------------------------------------------------


async def test_deprecated_timeouts_map_onto_client_timeout() -> None:
    with pytest.warns(DeprecationWarning, match="conn_timeout is deprecated"):
        s1 = surge.ClientSession(conn_timeout=5)
    assert s1.timeout.connect == 5 and s1.timeout.total == 300
    with pytest.warns(DeprecationWarning, match="read_timeout is deprecated"):
        s2 = surge.ClientSession(read_timeout=7)
    assert s2.timeout.total == 7
    await s1.close()
    await s2.close()
    with pytest.raises(ValueError, match="read_timeout and timeout parameters conflict"):
        surge.ClientSession(read_timeout=7, timeout=surge.ClientTimeout(total=1))
    with pytest.raises(ValueError, match="conn_timeout and timeout parameters conflict"):
        surge.ClientSession(conn_timeout=7, timeout=surge.ClientTimeout(total=1))


async def test_fallback_charset_resolver_decides_an_undeclared_charset() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            ctype = "text/plain; charset=utf-8" if b"declared" in head else "text/plain"
            body = "café".encode() if b"declared" in head else "café".encode("latin-1")
            writer.write(reply(200, body, {"Content-Type": ctype}))
            await writer.drain()

    calls: list[tuple[Any, bytes]] = []

    def resolver(response: surge.ClientResponse, body: bytes) -> str:
        calls.append((response, body))
        return "latin-1"

    async with raw_server(handler) as server:
        async with surge.ClientSession(fallback_charset_resolver=resolver) as s:
            async with s.get(server.url + "/") as resp:
                assert await resp.text() == "café"
            assert calls == [(resp, b"caf\xe9")]
            async with s.get(server.url + "/declared") as resp:
                assert await resp.text() == "café"
            assert len(calls) == 1  # a declared charset needs no resolver
        async with surge.ClientSession() as s, s.get(server.url + "/") as resp:
            # The default resolver says UTF-8, which these bytes are not.
            with pytest.raises(UnicodeDecodeError):
                await resp.text()


class TaggedResponse(surge.ClientResponse):
    def tag(self) -> str:
        return f"tagged {self.status}"


class CountedRequest(surge.ClientRequest):
    made = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountedRequest.made += 1
        super().__init__(*args, **kwargs)


async def test_request_and_response_classes() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            if head.startswith(b"GET /old "):
                writer.write(reply(302, b"", {"Location": "/new"}))
            else:
                writer.write(reply(200, head.split(b" ")[1]))
            await writer.drain()

    CountedRequest.made = 0
    async with (
        raw_server(handler) as server,
        surge.ClientSession(response_class=TaggedResponse, request_class=CountedRequest) as s,
    ):
        async with s.get(server.url + "/plain") as resp:
            assert type(resp) is TaggedResponse
            assert resp.tag() == "tagged 200"
        async with s.get(server.url + "/old", headers={"X-A": "1"}) as resp:
            assert type(resp) is TaggedResponse
            assert await resp.read() == b"/new"
            assert type(resp.history[0]) is TaggedResponse
    assert CountedRequest.made == 3  # /plain, /old and the redirect to /new


async def test_json_serialize_bytes_makes_the_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, body = await read_request(reader)
        ctype = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-type")]
        writer.write(reply(200, body + b"|" + ctype[0]))
        await writer.drain()

    async with (
        raw_server(handler) as server,
        surge.ClientSession(
            json_serialize=lambda obj: "from str", json_serialize_bytes=lambda obj: b'{"b":1}'
        ) as s,
        s.post(server.url + "/", json={"b": 1}) as resp,
    ):
        assert await resp.read() == b'{"b":1}|Content-Type: application/json'


async def test_socket_factory_makes_every_socket() -> None:
    peers: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[1])
        while True:
            await read_request(reader)
            writer.write(reply(200, b"ok", {"Connection": "close"}))
            await writer.drain()
            return

    made: list[tuple[Any, int]] = []

    def factory(addr_info: Any) -> socket.socket:
        family, kind, proto, _, _ = addr_info
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))  # its port tells the server's peer apart
        made.append((addr_info, sock.getsockname()[1]))
        return sock

    async with raw_server(handler) as server:
        connector = surge.TCPConnector(socket_factory=factory)
        async with surge.ClientSession(connector=connector) as s:
            for _ in range(2):
                async with s.get(server.url + "/") as resp:
                    assert await resp.read() == b"ok"
    assert len(made) == 2  # the server closed after each response: two connections
    assert made[0][0][4] == ("127.0.0.1", server.port)
    assert [port for _, port in made] == peers


async def test_session_attributes() -> None:
    async with surge.ClientSession() as s:
        assert s.requote_redirect_url is True
        with pytest.warns(DeprecationWarning, match="requote_redirect_url"):
            s.requote_redirect_url = False
        assert s.requote_redirect_url is False
        with pytest.warns(DeprecationWarning, match="loop"):
            assert s.loop is asyncio.get_running_loop()
        assert s.version == surge.HttpVersion11
    assert "tcp" in surge.TCPConnector.allowed_protocol_schema_set
    assert "unix" in surge.UnixConnector.allowed_protocol_schema_set
    assert {"http", "https", "ws", "wss"} <= surge.BaseConnector.allowed_protocol_schema_set


# -- WebSocket ----------------------------------------------------------------------------------


class TaggedWS(surge.ClientWebSocketResponse):
    pass


async def test_ws_response_class() -> None:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("hello")
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    async with (
        serve(app) as base,
        surge.ClientSession(ws_response_class=TaggedWS) as s,
        s.ws_connect(base + "/ws") as ws,
    ):
        assert type(ws) is TaggedWS
        assert await ws.receive_str() == "hello"
        assert ws.client_notakeover is False


async def test_client_notakeover_follows_the_server_answer() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        key = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"sec-websocket-key")]
        accept = base64.b64encode(
            hashlib.sha1(
                key[0].split(b":")[1].strip() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
            ).digest()
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n"
            b"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n\r\n"
            b"\x88\x02\x03\xe8"  # close 1000
        )
        await writer.drain()
        await reader.read()

    async with (
        raw_server(handler) as server,
        surge.ClientSession() as s,
        s.ws_connect(server.url.replace("http", "ws") + "/", compress=15) as ws,
    ):
        assert ws.client_notakeover is True
