"""The zlib backend (zlib_ng or the standard library's zlib) behind every deflate codec.

Each round trip runs through both backends, selected with ``surge.set_zlib_backend``, wrapped
in a spy that proves the selected module did the work; peers are independent (the
``websockets`` library, httpx, raw sockets and the standard library's decoders).
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import types
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from zlib_ng import zlib_ng

import surge
from surge import web
from surge.http import zlib_backend
from surge.http.content.codecs import DecompressionError, DecompressionLimitError, make_decoder
from surge.http.content.compression import make_compressor
from surge.http.ws.deflate import DeflateParams, MessageDeflater, MessageInflater
from surge.http.ws.errors import WSProtocolError
from tests.client.servers import raw_server, read_request, reply
from tests.helpers import serve

MODULES: dict[str, Any] = {"zlib": zlib, "zlib_ng": zlib_ng}
TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(4000))


class Spy:
    """A zlib-compatible module that forwards to ``real`` and counts the codecs it builds."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.compressors = 0
        self.decompressors = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def compressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.compressors += 1
        return self.real.compressobj(*args, **kwargs)

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        self.decompressors += 1
        return self.real.decompressobj(*args, **kwargs)


@pytest.fixture
def restore_backend() -> Iterator[None]:
    previous = zlib_backend.backend
    try:
        yield
    finally:
        zlib_backend.set_backend(previous)


@pytest.fixture(params=sorted(MODULES))
def spy(request: pytest.FixtureRequest, restore_backend: None) -> Spy:
    wrapped = Spy(MODULES[request.param])
    surge.set_zlib_backend(wrapped)
    return wrapped


# -- selection and switching ---------------------------------------------------------------


def test_default_is_zlib_ng_when_installed() -> None:
    assert zlib_backend.default_backend() is zlib_ng


def test_default_falls_back_to_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zlib_ng", None)  # makes the import fail
    assert zlib_backend.default_backend() is zlib


def test_aiohttp_names_reach_the_same_function() -> None:
    from surge.compat import aiohttp as aiohttp_alias

    assert aiohttp_alias.set_zlib_backend is surge.set_zlib_backend


@pytest.mark.parametrize(
    "module",
    [
        object(),
        types.SimpleNamespace(compressobj=zlib.compressobj, error=zlib.error),
        types.SimpleNamespace(
            compressobj=zlib.compressobj, decompressobj=zlib.decompressobj, error="not a class"
        ),
    ],
)
def test_an_object_without_the_zlib_api_is_refused(module: Any, restore_backend: None) -> None:
    before = zlib_backend.backend
    with pytest.raises(TypeError, match="not zlib-compatible"):
        surge.set_zlib_backend(module)
    assert zlib_backend.backend is before


def test_switching_applies_to_codecs_built_afterwards(restore_backend: None) -> None:
    surge.set_zlib_backend(zlib_ng)
    old = make_compressor("gzip")
    surge.set_zlib_backend(zlib)
    new = make_compressor("gzip")
    assert type(new._obj) is type(zlib.compressobj())  # type: ignore[attr-defined]
    assert type(old._obj) is type(zlib_ng.compressobj())  # type: ignore[attr-defined]
    # The stream started before the switch still finishes with its own module.
    body = old.compress(TEXT.encode()) + old.finish()
    assert gzip.decompress(body) == TEXT.encode()


# -- sans-IO codecs: the bounds and the error classes of each backend ----------------------


def test_ws_inflater_bounds_the_inflated_size(spy: Spy) -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = comp.compress(b"\0" * (8 << 20)) + comp.flush(zlib.Z_SYNC_FLUSH)
    inflater = MessageInflater(DeflateParams(), max_size=1 << 20)
    with pytest.raises(WSProtocolError) as info:
        inflater.inflate(bomb[:-4], end=True)
    assert info.value.code == 1009
    assert spy.decompressors == 1


def test_ws_message_of_exactly_the_limit_passes(spy: Spy) -> None:
    data = TEXT.encode()
    deflater = MessageDeflater(DeflateParams())
    inflater = MessageInflater(DeflateParams(), max_size=len(data))
    assert inflater.inflate(deflater.compress(data), end=True) == data
    # A fragmented message is bounded over all its fragments.
    frame = deflater.compress(data + b"!")
    half = len(frame) // 2
    with pytest.raises(WSProtocolError) as info:
        inflater.inflate(frame[:half], end=False)
        inflater.inflate(frame[half:], end=True)
    assert info.value.code == 1009


def test_ws_invalid_compressed_data_is_1007(spy: Spy) -> None:
    inflater = MessageInflater(DeflateParams(), max_size=0)
    with pytest.raises(WSProtocolError) as info:
        inflater.inflate(b"\xff\xfe\xfd not deflate at all", end=True)
    assert info.value.code == 1007


@pytest.mark.parametrize("takeover", [True, False])
def test_ws_deflater_output_decodes_with_the_standard_library(spy: Spy, takeover: bool) -> None:
    params = DeflateParams(local_no_context_takeover=not takeover, local_max_window_bits=10)
    deflater = MessageDeflater(params)
    decoder = zlib.decompressobj(-10)
    for i in range(3):
        message = f"{i}: {TEXT}".encode()
        frame = deflater.compress(message)
        assert len(frame) < len(message) // 4
        assert decoder.decompress(frame + b"\x00\x00\xff\xff") == message
        if not takeover:  # each message must decode alone, with a fresh window
            assert zlib.decompressobj(-10).decompress(frame + b"\x00\x00\xff\xff") == message
    assert spy.compressors == 1


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_content_decoder_bound_and_errors(spy: Spy, coding: str) -> None:
    wbits = 31 if coding == "gzip" else 15
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    bomb = comp.compress(b"\0" * (8 << 20)) + comp.flush()
    decoder = make_decoder(coding, max_size=100_000)
    assert decoder is not None
    with pytest.raises(DecompressionLimitError):
        decoder.decompress(bomb)
    garbage = make_decoder(coding)
    assert garbage is not None
    with pytest.raises(DecompressionError):
        garbage.decompress(b"\x78\x9c" + b"\xff" * 64 if coding == "deflate" else b"\x1f\x8b" * 40)
    assert spy.decompressors >= 2


# -- WebSocket over sockets: surge server with the websockets client, and the reverse ------


def _echo_app(**ws_kwargs: Any) -> web.Application:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(**ws_kwargs)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str(msg.data[::-1])
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    return app


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws"


async def test_ws_server_context_takeover_round_trips(spy: Spy) -> None:
    async with serve(_echo_app()) as base, connect(_ws_url(base)) as client:
        assert client.response is not None
        assert "permessage-deflate" in client.response.headers["Sec-WebSocket-Extensions"]
        for i in range(4):
            text = f"{i}: {TEXT}"
            await client.send(text)
            assert await client.recv() == text[::-1]
            await client.send(text.encode())
            assert await client.recv() == text.encode()[::-1]
    assert spy.compressors == 1 and spy.decompressors == 1  # one of each per connection


async def test_ws_server_no_context_takeover_and_small_windows(spy: Spy) -> None:
    offer = ClientPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=10,
        client_max_window_bits=10,
    )
    async with (
        serve(_echo_app()) as base,
        connect(_ws_url(base), compression=None, extensions=[offer]) as client,
    ):
        assert client.response is not None
        agreed = client.response.headers["Sec-WebSocket-Extensions"]
        assert "server_no_context_takeover" in agreed
        assert "server_max_window_bits=10" in agreed
        for i in range(4):
            text = f"{i}: {TEXT}"
            await client.send(text)
            assert await client.recv() == text[::-1]
    assert spy.compressors == 1


async def test_ws_server_refuses_an_inflated_size_over_max_msg_size(spy: Spy) -> None:
    limit = 64 * 1024
    async with serve(_echo_app(max_msg_size=limit)) as base, connect(_ws_url(base)) as client:
        await client.send("a" * limit)  # exactly the limit is fine
        assert await client.recv() == "a" * limit
        await client.send("b" * (limit + 1))  # a few dozen bytes on the wire
        with pytest.raises(ConnectionClosed) as info:
            await client.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def test_ws_client_against_the_websockets_server(spy: Spy) -> None:
    async def echo(conn: ServerConnection) -> None:
        async for message in conn:
            await conn.send(message)

    async with ws_serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with (
            surge.ClientSession() as session,
            session.ws_connect(f"ws://127.0.0.1:{port}", compress=15) as ws,
        ):
            assert ws.compress
            for i in range(3):
                await ws.send_str(f"{i}: {TEXT}")
                assert await ws.receive_str() == f"{i}: {TEXT}"
    assert spy.compressors == 1 and spy.decompressors == 1


# -- HTTP: response compression, client decompression and request compression --------------


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_response_compression_decodes_with_httpx(spy: Spy, coding: str) -> None:
    async def whole(request: web.Request) -> web.Response:
        resp = web.Response(text=TEXT)
        resp.enable_compression(web.ContentCoding(coding))
        return resp

    async def streamed(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "text/plain"
        resp.enable_compression(web.ContentCoding(coding))
        await resp.prepare(request)
        for line in TEXT.splitlines(keepends=True)[:500]:
            await resp.write(line.encode())
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/whole", whole)
    app.router.add_get("/streamed", streamed)
    expected = {"/whole": TEXT, "/streamed": "".join(TEXT.splitlines(keepends=True)[:500])}
    async with serve(app) as base, httpx.AsyncClient() as client:
        for path, text in expected.items():
            resp = await client.get(base + path, headers={"Accept-Encoding": coding})
            assert resp.status_code == 200
            assert resp.headers["content-encoding"] == coding
            assert resp.text == text
    assert spy.compressors == 2


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
async def test_client_decompresses_with_the_backend(spy: Spy, coding: str) -> None:
    data = TEXT.encode()
    if coding == "gzip":
        body = gzip.compress(data)
    else:
        body = zlib.compress(data)
        if coding == "raw-deflate":
            body = body[2:-4]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(200, body, {"Content-Encoding": coding.removeprefix("raw-")}))
        await writer.drain()

    async with (
        raw_server(handler) as server,
        surge.ClientSession() as session,
        session.get(server.url + "/") as resp,
    ):
        assert await resp.read() == data
    assert spy.decompressors >= 1


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_client_request_compression(spy: Spy, coding: str) -> None:
    bodies: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bodies.append(await read_request(reader))
        writer.write(reply(200, b"ok"))
        await writer.drain()

    async with (
        raw_server(handler) as server,
        surge.ClientSession() as session,
        session.post(server.url + "/", data=TEXT.encode(), compress=coding) as resp,
    ):
        assert resp.status == 200
    head, body = bodies[0]
    assert f"content-encoding: {coding}".encode() in head.lower()
    decoded = gzip.decompress(body) if coding == "gzip" else zlib.decompress(body)
    assert decoded == TEXT.encode()
    assert spy.compressors == 1
