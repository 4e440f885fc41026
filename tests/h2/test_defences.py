"""Abuse over HTTP/2, from a raw socket peer: each attack ends in a bounded, clear outcome."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

import h2.events
import hpack
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from hyperframe.frame import ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame, PingFrame

from surge import web
from surge.http.h2.settings import H2Limits
from tests.h2.app import build_app
from tests.h2.helpers import RawH2, parse_frames, serve_tls
from tests.helpers import serve

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GET = [(b":method", b"GET"), (b":path", b"/"), (b":scheme", b"http"), (b":authority", b"t")]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def goaway_code(peer: RawH2) -> int | None:
    event = await peer.until(lambda e: isinstance(e, h2.events.ConnectionTerminated))
    if event is None:
        return None
    assert isinstance(event, h2.events.ConnectionTerminated)
    return int(event.error_code or 0)


def counting_app() -> tuple[web.Application, list[str]]:
    calls: list[str] = []
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        calls.append(request.path)
        await asyncio.sleep(0.01)
        return web.Response(text="ok")

    app.router.add_get("/{tail:.*}", handler)
    return app, calls


async def test_rapid_reset_gets_enhance_your_calm() -> None:
    app, calls = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        for _ in range(1000):
            sid = peer.request("/")
            peer.conn.reset_stream(sid, ErrorCodes.CANCEL)
        peer.flush()
        code = await goaway_code(peer)
        peer.close()
    assert code == ErrorCodes.ENHANCE_YOUR_CALM
    assert len(calls) < 1000  # streams reset in the same read never reach a handler


async def test_resets_under_the_rate_are_fine() -> None:
    app, calls = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        for _ in range(20):
            sid = peer.request("/")
            peer.conn.reset_stream(sid, ErrorCodes.CANCEL)
        sid = peer.request("/last")
        peer.flush()
        status, body = await peer.response(sid)
        peer.close()
    assert (status, body) == (200, b"ok")
    assert peer.goaway() is None
    assert "/last" in calls


async def test_ping_flood_gets_enhance_your_calm() -> None:
    app, _ = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        peer.send_raw(
            b"".join(PingFrame(0, opaque_data=b"%08d" % i).serialize() for i in range(5000))
        )
        code = await goaway_code(peer)
        peer.close()
    assert code == ErrorCodes.ENHANCE_YOUR_CALM


async def test_settings_flood_gets_enhance_your_calm() -> None:
    app, _ = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        for _ in range(3000):
            peer.conn.update_settings({SettingCodes.ENABLE_PUSH: 0})
        peer.flush()
        code = await goaway_code(peer)
        peer.close()
    assert code == ErrorCodes.ENHANCE_YOUR_CALM


async def test_continuation_flood_is_cut_off() -> None:
    app, calls = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        block = hpack.Encoder().encode(GET)
        frames = [HeadersFrame(1, data=block).serialize()]  # no END_HEADERS
        frames += [ContinuationFrame(1, data=b"\x00" * 16).serialize() for _ in range(10_000)]
        peer.send_raw(b"".join(frames))
        code = await goaway_code(peer)
        peer.close()
    assert code is not None and code != ErrorCodes.NO_ERROR
    assert calls == []


async def test_hpack_bomb_is_bounded() -> None:
    app, calls = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        encoder = hpack.Encoder()
        # One 4 KB entry in the dynamic table, then 1-byte references to it: 100 of them
        # decode to 400 KB of headers from a few hundred bytes on the wire.
        block = encoder.encode([*GET, (b"x-bomb", b"a" * 4000)])
        block += b"\xbe" * 100  # indexed field 62: the newest dynamic table entry
        frame = HeadersFrame(1, data=block, flags=["END_HEADERS", "END_STREAM"])
        peer.send_raw(frame.serialize())
        code = await goaway_code(peer)
        peer.close()
    assert code == ErrorCodes.ENHANCE_YOUR_CALM
    assert calls == []


async def test_max_concurrent_streams_advertised_and_enforced() -> None:
    state: dict[str, Any] = {"release": asyncio.Event()}
    async with serve(build_app(state)) as url:
        peer = await RawH2.open(port_of(url))
        settings = await peer.until(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
        assert isinstance(settings, h2.events.RemoteSettingsChanged)
        assert settings.changed_settings[SettingCodes.MAX_CONCURRENT_STREAMS].new_value == 100
        peer.close()
        # A peer that ignores the limit (it opens streams before reading our SETTINGS):
        # 150 streams whose handlers all block.
        peer = await RawH2.open(port_of(url))
        sids = [peer.request(f"/slow?i={i}") for i in range(150)]
        peer.flush()
        refused = await peer.until(lambda e: isinstance(e, h2.events.StreamReset))
        for _ in range(200):  # the accepted streams' handlers are starting
            if state["max_active"] >= 100:
                break
            await asyncio.sleep(0.01)
        state["release"].set()
        status, body = await peer.response(sids[0])
        peer.close()
    assert isinstance(refused, h2.events.StreamReset)
    assert refused.error_code == ErrorCodes.REFUSED_STREAM
    assert refused.stream_id == sids[100]  # the 101st stream
    assert state["max_active"] == 100
    assert (status, body) == (200, b"0")  # the connection survives the refusals


async def test_zero_window_peer_does_not_pin_a_stream() -> None:
    state: dict[str, Any] = {}
    limits = H2Limits(send_timeout=0.2)
    async with serve(build_app(state), http2_limits=limits, keepalive_timeout=5) as url:
        peer = await RawH2.open(port_of(url))
        peer.conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 0})
        sid = peer.request("/stream?n=64")
        peer.flush()
        reset = await peer.until(
            lambda e: isinstance(e, h2.events.StreamReset) and e.stream_id == sid
        )
        peer.close()
        await asyncio.sleep(0.05)
    assert isinstance(reset, h2.events.StreamReset)
    assert reset.error_code == ErrorCodes.CANCEL
    assert state["errors"] and isinstance(state["errors"][0], ConnectionResetError)


async def test_preface_not_followed_by_settings_gets_protocol_error() -> None:
    app, calls = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url), preface=False)
        peer.conn.initiate_connection()
        peer.conn.data_to_send()  # drop our SETTINGS: the first frame is a PING instead
        peer.send_raw(PREFACE + PingFrame(0, opaque_data=b"12345678").serialize())
        code = await goaway_code(peer)
        peer.close()
    assert code == ErrorCodes.PROTOCOL_ERROR
    assert calls == []


async def test_invalid_preface_after_alpn_h2_gets_protocol_error() -> None:
    app, calls = counting_app()
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_tls(app, os.path.join(tmp, "ca.pem")) as (url, ctx):
            ctx.set_alpn_protocols(["h2"])
            peer = await RawH2.open(port_of(url), ssl_context=ctx, preface=False)
            assert peer.writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
            peer.conn.initiate_connection()
            peer.conn.data_to_send()
            peer.send_raw(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            code = await goaway_code(peer)
            peer.close()
    assert code == ErrorCodes.PROTOCOL_ERROR
    assert calls == []


async def test_graceful_shutdown_sends_goaway_and_finishes_streams() -> None:
    state: dict[str, Any] = {"release": asyncio.Event()}
    runner = web.AppRunner(build_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    peer = await RawH2.open(site.port)
    sid = peer.request("/slow?i=7")
    peer.request("/slow?i=8", end_stream=False)  # a stream with a body still coming
    peer.flush()
    while state["active"] == 0:
        await asyncio.sleep(0.005)
    cleanup = asyncio.create_task(runner.cleanup())
    received = b""
    async with asyncio.timeout(5):
        while chunk := await peer.reader.read(65536):
            received += chunk
            frames = parse_frames(received)
            if any(isinstance(f, GoAwayFrame) for f in frames) and not state["release"].is_set():
                state["release"].set()
                # The connection still takes frames for open streams after our GOAWAY.
                peer.conn.send_data(sid + 2, b"", end_stream=True)
                peer.flush()
    await cleanup
    peer.close()
    frames = parse_frames(received)
    goaway = next(i for i, f in enumerate(frames) if isinstance(f, GoAwayFrame))
    assert frames[goaway].error_code == ErrorCodes.NO_ERROR
    assert frames[goaway].last_stream_id == sid + 2
    after = frames[goaway + 1 :]
    bodies = {
        f.stream_id: f.data for f in after if isinstance(f, DataFrame) and "END_STREAM" in f.flags
    }
    assert bodies == {sid: b"7", sid + 2: b"8"}


_MALFORMED = {
    "uppercase name": [(b"X-Upper", b"1")],
    "CR in value": [(b"x-bad", b"a\rb")],
    "space around value": [(b"x-bad", b" a")],
    "connection header": [(b"connection", b"close")],
    "te other than trailers": [(b"te", b"gzip")],
    "colon inside name": [(b"x:bad", b"1")],
    "empty name": [(b"", b"1")],
}


async def test_malformed_request_headers_are_refused_every_time() -> None:
    """h2's inbound header validation runs on every distinct header list (surge memoises
    the verdict for lists it has accepted), a repeated bad list is refused again, and a
    malformed request resets its stream only."""
    app, calls = counting_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        base = [
            (b":method", b"GET"),
            (b":path", b"/good"),
            (b":scheme", b"http"),
            (b":authority", b"127.0.0.1"),
        ]
        # The raw peer sends what we tell it: no normalisation, no validation of its own.
        peer.conn.config.validate_outbound_headers = False
        peer.conn.config.normalize_outbound_headers = False
        for extra in [*_MALFORMED.values(), *_MALFORMED.values()]:
            sid = peer.conn.get_next_available_stream_id()
            peer.conn.send_headers(sid, base + extra, end_stream=True)
            peer.flush()
            ended = await peer.until(
                lambda e, sid=sid: (
                    (
                        isinstance(e, h2.events.StreamReset | h2.events.StreamEnded)
                        and e.stream_id == sid
                    )
                    or isinstance(e, h2.events.ConnectionTerminated)
                )
            )
            # A stream error (RFC 9113 section 8.1.1): the connection goes on.
            assert isinstance(ended, h2.events.StreamReset), (extra, ended)
            assert ended.error_code == ErrorCodes.PROTOCOL_ERROR
        # Missing pseudo-headers and a pseudo-header after a regular field.
        for headers in (
            [(b":method", b"GET"), (b":scheme", b"http"), (b":authority", b"h")],
            [(b":method", b"GET"), (b"x-a", b"1"), (b":path", b"/"), (b":scheme", b"http")],
        ):
            sid = peer.conn.get_next_available_stream_id()
            peer.conn.send_headers(sid, headers, end_stream=True)
            peer.flush()
            ended = await peer.until(
                lambda e, sid=sid: (
                    (
                        isinstance(e, h2.events.StreamReset | h2.events.StreamEnded)
                        and e.stream_id == sid
                    )
                    or isinstance(e, h2.events.ConnectionTerminated)
                )
            )
            assert isinstance(ended, h2.events.StreamReset), (headers, ended)
            assert ended.error_code == ErrorCodes.PROTOCOL_ERROR
        # A good request is served.
        sid = peer.request("/good")
        peer.flush()
        assert await peer.response(sid) == (200, b"ok")
        peer.close()
    assert calls == ["/good"]


async def test_pseudo_header_in_trailers_resets_the_stream() -> None:
    app = build_app()
    async with serve(app) as url:
        peer = await RawH2.open(port_of(url))
        peer.conn.config.validate_outbound_headers = False
        peer.conn.config.normalize_outbound_headers = False
        sid = peer.request("/echo", "POST", end_stream=False)
        peer.conn.send_data(sid, b"body")
        peer.conn.send_headers(sid, [(b":path", b"/x")], end_stream=True)
        peer.flush()
        ended = await peer.until(
            lambda e: (
                isinstance(e, h2.events.StreamReset | h2.events.StreamEnded) and e.stream_id == sid
            )
        )
        assert isinstance(ended, h2.events.StreamReset)
        assert ended.error_code == ErrorCodes.PROTOCOL_ERROR
        sid = peer.request("/")
        peer.flush()
        assert await peer.response(sid) == (200, b"hello 2.0")
        peer.close()
