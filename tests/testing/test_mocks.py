"""make_mocked_request and make_mocked_coro: handlers called without a socket."""

from __future__ import annotations

import ssl

import pytest

from surge import StreamReader, web
from surge.test_utils import MockedWriter, make_mocked_coro, make_mocked_request


def test_request_line_headers_and_match_info() -> None:
    app = web.Application()
    req = make_mocked_request(
        "GET",
        "/users/42?x=1&x=2",
        headers={"Host": "example.com", "X-Token": "abc"},
        match_info={"user_id": "42"},
        app=app,
    )
    assert isinstance(req, web.Request)
    assert req.method == "GET"
    assert req.path == "/users/42"
    assert req.query.getall("x") == ["1", "2"]
    assert req.headers["x-token"] == "abc"
    assert req.host == "example.com"
    assert str(req.url) == "http://example.com/users/42?x=1&x=2"
    assert req.match_info["user_id"] == "42"
    assert req.app is app
    assert req.version == (1, 1) and req.keep_alive
    assert req.remote == "127.0.0.1"


def test_defaults_and_closing() -> None:
    req = make_mocked_request("POST", "/", closing=True, version=(1, 0))
    assert isinstance(req.app, web.Application)
    assert dict(req.match_info) == {}
    assert not req.keep_alive
    assert req.version == (1, 0)
    assert not req.secure


def test_sslcontext_makes_request_secure() -> None:
    req = make_mocked_request("GET", "/", sslcontext=ssl.create_default_context())
    assert req.secure and req.scheme == "https"


async def test_payload_stream_and_bytes() -> None:
    stream = StreamReader()
    stream.feed_data(b'{"a": 1}')
    stream.feed_eof()
    req = make_mocked_request(
        "POST", "/", headers={"Content-Type": "application/json"}, payload=stream
    )
    assert await req.json() == {"a": 1}
    req2 = make_mocked_request("PUT", "/", payload=b"raw body")
    assert req2.content_length == 8
    assert await req2.read() == b"raw body"


async def test_client_max_size_applies() -> None:
    req = make_mocked_request("POST", "/", payload=b"x" * 20, client_max_size=10)
    with pytest.raises(web.HTTPRequestEntityTooLarge):
        await req.read()


async def test_response_goes_to_the_mocked_writer() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=201, headers={"X-Id": request.match_info["id"]})
        await resp.prepare(request)
        await resp.write(b"part1,")
        await resp.write(b"part2")
        await resp.write_eof()
        return resp

    req = make_mocked_request("GET", "/items/7", match_info={"id": "7"})
    await handler(req)
    writer = req.writer
    assert isinstance(writer, MockedWriter)
    assert writer.status == 201
    assert writer.headers is not None and writer.headers["X-Id"] == "7"
    assert bytes(writer.body) == b"part1,part2"
    assert writer.eof


async def test_prepare_signals_of_the_app_run() -> None:
    app = web.Application()
    seen: list[str] = []

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        seen.append(request.path)
        response.headers["X-Hook"] = "1"

    app.on_response_prepare.append(on_prepare)
    app.freeze()  # signals only fire once frozen, as on a running server
    req = make_mocked_request("GET", "/p", app=app)
    resp = web.Response(text="ok")
    await resp.prepare(req)
    assert seen == ["/p"]
    assert req.writer.headers["X-Hook"] == "1"
    assert bytes(req.writer.body) == b"ok"


async def test_make_mocked_coro() -> None:
    coro = make_mocked_coro(return_value=5)
    assert await coro(1, key="v") == 5
    coro.assert_called_once_with(1, key="v")
    failing = make_mocked_coro(raise_exception=KeyError("k"))
    with pytest.raises(KeyError):
        await failing()
