"""Trailers both ways over HTTP/2: ``request.trailers``, ``StreamResponse.trailers`` and the
client's ``response.trailers``, checked with a raw h2 peer and the surge client."""

from __future__ import annotations

import json

import h2.events
import httpx

from surge import ClientSession, web
from tests.h2.helpers import RawH2
from tests.helpers import serve


def _app() -> web.Application:
    app = web.Application()

    async def upload(request: web.Request) -> web.Response:
        before = dict(request.trailers)
        body = await request.read()
        return web.json_response(
            {"before": before, "after": dict(request.trailers), "size": len(body)}
        )

    async def stream(request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("size", "5"))
        resp = web.StreamResponse()
        resp.trailers["X-Checksum"] = f"len={size}"
        resp.trailers["Connection"] = "close"  # hop-by-hop: never sent
        await resp.prepare(request)
        await resp.write(b"a" * size)
        resp.trailers.add("grpc-status", "0")  # may be set until write_eof
        await resp.write_eof()
        return resp

    app.router.add_post("/upload", upload)
    app.router.add_get("/stream", stream)
    return app


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def test_request_trailers_reach_the_handler_after_the_body() -> None:
    async with serve(_app()) as url:
        peer = await RawH2.open(_port(url))
        try:
            sid = peer.request("/upload", "POST", end_stream=False)
            peer.conn.send_data(sid, b"hello")
            peer.conn.send_headers(sid, [(b"x-digest", b"abc"), (b"x-n", b"1")], end_stream=True)
            peer.flush()
            status, body = await peer.response(sid)
        finally:
            peer.close()
    assert status == 200
    got = json.loads(body)
    assert (got["after"], got["size"]) == ({"x-digest": "abc", "x-n": "1"}, 5)


async def test_request_without_trailers_has_none() -> None:
    async with serve(_app()) as url, httpx.AsyncClient(http2=True, http1=False) as client:
        resp = await client.post(f"{url}/upload", content=b"abc")
    assert resp.http_version == "HTTP/2"
    assert resp.json() == {"before": {}, "after": {}, "size": 3}


async def _stream_with_trailers(url: str, size: int) -> tuple[int, bytes, list[h2.events.Event]]:
    peer = await RawH2.open(_port(url))
    try:
        sid = peer.request(f"/stream?size={size}")
        peer.flush()

        def ended(event: h2.events.Event) -> bool:
            if isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                # Open the window as the body arrives, so a large body can flow.
                peer.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                peer.flush()
            return isinstance(event, h2.events.StreamEnded) and event.stream_id == sid

        assert await peer.until(ended) is not None
        events = [e for e in peer.events if getattr(e, "stream_id", None) == sid]
        status = int(dict(events[0].headers)[b":status"])
        body = b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived))
    finally:
        peer.close()
    return status, body, events


async def test_response_trailers_follow_the_body() -> None:
    async with serve(_app()) as url:
        status, body, events = await _stream_with_trailers(url, 5)
    assert (status, body) == (200, b"aaaaa")
    trailers = [e for e in events if isinstance(e, h2.events.TrailersReceived)]
    assert len(trailers) == 1
    assert trailers[0].headers == [(b"x-checksum", b"len=5"), (b"grpc-status", b"0")]
    kinds = [type(e) for e in events]
    # The trailing HEADERS frame ends the stream after the last DATA frame.
    assert kinds.index(h2.events.TrailersReceived) > max(
        i for i, k in enumerate(kinds) if k is h2.events.DataReceived
    )
    assert trailers[0].stream_ended is not None


async def test_response_trailers_wait_for_a_body_held_by_flow_control() -> None:
    size = 300_000  # beyond the peer's 65,535-byte initial window: the body is buffered
    async with serve(_app()) as url:
        status, body, events = await _stream_with_trailers(url, size)
    assert (status, len(body)) == (200, size)
    kinds = [type(e) for e in events]
    assert kinds.count(h2.events.TrailersReceived) == 1
    assert kinds[-2:] == [h2.events.TrailersReceived, h2.events.StreamEnded]


async def test_surge_client_reads_response_trailers() -> None:
    async with (
        serve(_app()) as url,
        ClientSession(http2="prior_knowledge") as session,
        session.get(f"{url}/stream?size=3") as resp,
    ):
        assert resp.version == (2, 0)
        assert await resp.read() == b"aaa"
        assert dict(resp.trailers) == {"x-checksum": "len=3", "grpc-status": "0"}


async def test_http11_response_ignores_trailers() -> None:
    async with serve(_app()) as url, httpx.AsyncClient() as client:
        resp = await client.get(f"{url}/stream?size=4")
    assert resp.http_version == "HTTP/1.1"
    assert resp.content == b"aaaa"
    assert "x-checksum" not in resp.headers
