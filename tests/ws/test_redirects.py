"""``ws_connect`` follows redirects during the opening handshake, as aiohttp's does: up to 10,
``Authorization`` kept for the same origin and dropped for another, cookies set on the way
sent on, :class:`TooManyRedirects` past the limit."""

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

    app = web.Application()
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


async def test_too_many_redirects() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        with pytest.raises(surge.TooManyRedirects) as info:
            await session.ws_connect(base.replace("http://", "ws://") + "/loop")
    history = info.value.history
    assert len(history) > 10  # ten redirects followed, the next one refused
    assert {r.status for r in history} == {302}
    assert {str(r.url.path) for r in history} == {"/loop"}


async def test_redirect_to_a_non_websocket_page_is_a_handshake_error() -> None:
    async with serve(_app()) as base, surge.ClientSession() as session:
        with pytest.raises(surge.WSServerHandshakeError) as info:
            await session.ws_connect(base.replace("http://", "ws://") + "/r?to=/missing")
    assert info.value.status == 404
    assert [r.status for r in info.value.history] == [302]
