"""``ws_connect`` follows redirects during the opening handshake, as aiohttp's does:
``Authorization`` kept for the same origin and dropped for another, cookies set on the way
sent on, :class:`TooManyRedirects` on the 10th redirect (nine are followed), each hop shown in
the caller's spelling (ws:// or http://)."""

from __future__ import annotations

import pytest
from yarl import URL

import surge
from surge import web
from tests.helpers import serve


def _app() -> web.Application:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        seen = "|".join(
            request.headers.get(name, "-") for name in ("Authorization", "X-Custom", "Cookie")
        )
        await ws.send_str(f"{request.path} {seen}")
        await ws.close()
        return ws

    async def redirect(request: web.Request) -> web.Response:
        response = web.Response(status=int(request.query.get("status", "302")))
        response.headers["Location"] = request.query.get("to", "/loop")
        if "cookie" in request.query:
            response.set_cookie("hop", request.query["cookie"])
        return response

    async def chain(request: web.Request) -> web.StreamResponse:
        # /chain/N answers 302 to /chain/N-1; /chain/0 is the WebSocket.
        n = int(request.match_info["n"])
        if n == 0:
            return await ws_handler(request)
        raise web.HTTPFound(f"/chain/{n - 1}")

    app = web.Application()
    app.router.add_get("/chain/{n}", chain)
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/r", redirect)
    app.router.add_get("/loop", redirect)
    return app


async def _first_text(session: surge.ClientSession, url: str | URL, **kwargs: object) -> str:
    async with session.ws_connect(url, **kwargs) as ws:  # type: ignore[arg-type]
        msg = await ws.receive()
        assert msg.type == surge.WSMsgType.TEXT
        return str(msg.data)


async def test_relative_redirect_keeps_authorization_and_headers() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        url = URL(base.replace("http://", "ws://")) / "r"
        for status in (301, 302, 303, 307, 308):
            text = await _first_text(
                session,
                url.with_query(to="/ws", status=str(status)),
                auth=surge.BasicAuth("a", "b"),
                headers={"X-Custom": "1"},
            )
            assert text == f"/ws {surge.BasicAuth('a', 'b').encode()}|1|-"


async def test_absolute_http_and_ws_locations_are_followed() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        port = URL(base).port
        url = URL(f"ws://127.0.0.1:{port}/r")
        for to in (f"http://127.0.0.1:{port}/ws", f"ws://127.0.0.1:{port}/ws"):
            text = await _first_text(session, url.with_query(to=to))
            assert text == "/ws -|-|-"


async def test_authorization_dropped_when_the_origin_changes() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        port = URL(base).port
        to = f"ws://localhost:{port}/ws"
        text = await _first_text(
            session,
            URL(f"ws://127.0.0.1:{port}/r").with_query(to=to),
            auth=surge.BasicAuth("a", "b"),
            headers={"X-Custom": "kept"},
        )
        assert text == "/ws -|kept|-"


async def test_cookie_set_by_a_redirect_is_sent_on() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        # A host name: the jar keeps no cookies from IP addresses (aiohttp's default).
        url = URL(f"ws://localhost:{URL(base).port}/r")
        text = await _first_text(session, url.with_query(to="/ws", cookie="v1"))
        assert text == "/ws -|-|hop=v1"


async def test_nine_redirects_are_followed() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        text = await _first_text(session, base.replace("http://", "ws://") + "/chain/9")
    assert text == "/chain/0 -|-|-"


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_the_tenth_redirect_raises(scheme: str) -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        origin = base.replace("http", scheme, 1)
        with pytest.raises(surge.TooManyRedirects) as info:
            await session.ws_connect(f"{origin}/chain/10", headers={"X-Custom": "v"})
    error = info.value
    expected = [f"{origin}/chain/{n}" for n in range(10, 0, -1)]
    assert [str(r.url) for r in error.history] == expected
    assert [str(r.request_info.url) for r in error.history] == expected
    assert [r.status for r in error.history] == [302] * 10
    assert [r.headers["Location"] for r in error.history] == [
        f"/chain/{n}" for n in range(9, -1, -1)
    ]
    assert error.request_info is not None
    assert str(error.request_info.url) == f"{origin}/chain/10"
    assert str(error.request_info.real_url) == f"{origin}/chain/10"
    assert error.request_info.headers["X-Custom"] == "v"
    assert error.request_info.headers["Upgrade"] == "websocket"
    assert (error.status, error.message, error.headers) == (0, "", None)


async def test_a_redirect_loop_raises() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        with pytest.raises(surge.TooManyRedirects) as info:
            await session.ws_connect(base.replace("http://", "ws://") + "/loop")
    assert [r.url.path for r in info.value.history] == ["/loop"] * 10


async def test_an_absolute_location_sets_the_spelling_of_later_hops() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        ws_base = base.replace("http://", "ws://")
        with pytest.raises(surge.WSServerHandshakeError) as info:
            await session.ws_connect(f"{ws_base}/r?to={base}/r%3Fto%3D/missing")
    # As aiohttp reports it: an absolute http:// Location, then a relative one, from ws://.
    assert [r.url.scheme for r in info.value.history] == ["ws", "http"]
    assert str(info.value.request_info.url) == f"{base}/missing"


async def test_redirect_to_a_non_websocket_page_is_a_handshake_error() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        with pytest.raises(surge.WSServerHandshakeError) as info:
            await session.ws_connect(base.replace("http://", "ws://") + "/r?to=/missing")
    assert info.value.status == 404
    assert [r.status for r in info.value.history] == [302]
    assert str(info.value.history[0].url) == base.replace("http://", "ws://") + "/r?to=/missing"
