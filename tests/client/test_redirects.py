"""Redirects against Python's http.server, and the I/O-free policy on its own."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import surge
from surge.client.payload import Payload
from surge.client.policies.redirects import follow_redirects
from surge.client.request import ClientRequest
from tests.client.servers import http_server


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        if path.startswith("/redirect/"):
            _, _, status, rest = path.split("/", 3)
            self.send_response(int(status))
            self.send_header("Location", "/" + rest)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.startswith("/chain/") and path != "/chain/0":
            # /chain/N answers 302 to /chain/N-1; /chain/0 is the end of the chain.
            self.send_response(302)
            self.send_header("Location", f"/chain/{int(path[7:]) - 1}")
            self.send_header("X-Hop", path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.startswith("/loop"):
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.startswith("/to-ftp"):
            self.send_response(302)
            self.send_header("Location", "ftp://example.org/x")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.startswith("/to-other"):
            self.send_response(302)
            self.send_header("Location", self.headers["X-Target"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps(
            {
                "method": self.command,
                "path": path,
                "body": body.decode(),
                "auth": self.headers.get("Authorization"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_HEAD = _answer


@pytest.mark.parametrize(
    ("status", "method", "expected_method", "expected_body"),
    [
        (301, "POST", "GET", ""),
        (302, "POST", "GET", ""),
        (303, "POST", "GET", ""),
        (303, "PUT", "GET", ""),
        (302, "PUT", "PUT", "payload"),
        (307, "POST", "POST", "payload"),
        (308, "PUT", "PUT", "payload"),
    ],
)
async def test_method_and_body_across_redirects(
    status: int, method: str, expected_method: str, expected_body: str
) -> None:
    with http_server(Handler) as base:
        url = f"{base}/redirect/{status}/final"
        async with surge.ClientSession() as s, s.request(method, url, data=b"payload") as resp:
            data = await resp.json()
            assert resp.status == 200
            assert [r.status for r in resp.history] == [status]
            assert str(resp.url) == f"{base}/final"
            assert str(resp.history[0].url) == url
    assert data["method"] == expected_method and data["body"] == expected_body


async def test_allow_redirects_false() -> None:
    with http_server(Handler) as base:
        async with (
            surge.ClientSession() as s,
            s.get(f"{base}/redirect/302/x", allow_redirects=False) as resp,
        ):
            assert resp.status == 302 and resp.headers["Location"] == "/x"
            assert resp.history == ()


def _chain(n: int) -> list[str]:
    return [f"/chain/{i}" for i in range(n, 0, -1)]


async def _no_middleware(req: ClientRequest, handler: Any) -> Any:
    return await handler(req)


# How the session may send a request: the lean call without options, the general one, and
# the one wrapped in a middleware (the driver runs every hop). All count redirects alike.
_PATHS: dict[str, dict[str, Any]] = {
    "plain": {},
    "general": {"headers": {"X-Any": "1"}},
    "middleware": {"middlewares": (_no_middleware,)},
}


@pytest.mark.parametrize("path", sorted(_PATHS))
async def test_default_limit_raises_on_the_tenth_redirect(path: str) -> None:
    # aiohttp 3.x: max_redirects=10 follows nine redirects; the tenth raises.
    with http_server(Handler) as base:
        async with surge.ClientSession() as s:
            async with s.get(f"{base}/chain/9", **_PATHS[path]) as resp:
                assert resp.status == 200 and resp.url.path == "/chain/0"
                assert [r.url.path for r in resp.history] == _chain(9)
                assert (await resp.json())["path"] == "/chain/0"
            with pytest.raises(surge.TooManyRedirects) as info:
                await s.get(f"{base}/chain/10", **_PATHS[path])
    error = info.value
    assert [r.url.path for r in error.history] == _chain(10)
    assert [r.status for r in error.history] == [302] * 10
    assert [r.headers["X-Hop"] for r in error.history] == _chain(10)
    assert all(r.closed for r in error.history)
    assert isinstance(error.history, tuple)


async def test_too_many_redirects_describes_the_original_request() -> None:
    with http_server(Handler) as base:
        async with surge.ClientSession() as s:
            with pytest.raises(surge.TooManyRedirects) as info:
                await s.get(f"{base}/chain/5", max_redirects=3, headers={"X-Mine": "v"})
    error = info.value
    assert isinstance(error, surge.ClientResponseError)
    assert [r.url.path for r in error.history] == ["/chain/5", "/chain/4", "/chain/3"]
    assert error.request_info is not None
    assert str(error.request_info.url) == f"{base}/chain/5"
    assert str(error.request_info.real_url) == f"{base}/chain/5"
    assert error.request_info.method == "GET"
    assert error.request_info.headers["X-Mine"] == "v"
    assert error.request_info.headers["Host"] == URL(base).raw_authority
    assert (error.status, error.message, error.headers) == (0, "", None)
    assert str(error) == f"0, message='', url='{base}/chain/5'"


async def test_max_redirects_one_follows_none() -> None:
    with http_server(Handler) as base:
        async with surge.ClientSession() as s:
            with pytest.raises(surge.TooManyRedirects) as info:
                await s.get(f"{base}/chain/1", max_redirects=1)
            async with s.get(f"{base}/chain/0", max_redirects=1) as resp:
                assert resp.status == 200 and resp.history == ()
                assert (await resp.json())["path"] == "/chain/0"
    assert [r.url.path for r in info.value.history] == ["/chain/1"]
    assert str(info.value.request_info.url) == f"{base}/chain/1"


async def test_max_redirects_zero_sets_no_limit() -> None:
    # aiohttp reads a falsy limit as none at all: a long chain is followed to its end.
    with http_server(Handler) as base:
        async with (
            surge.ClientSession() as s,
            s.get(f"{base}/chain/25", max_redirects=0) as resp,
        ):
            assert resp.status == 200 and resp.url.path == "/chain/0"
            assert [r.url.path for r in resp.history] == _chain(25)
            assert (await resp.json())["path"] == "/chain/0"


async def test_a_redirect_loop_raises() -> None:
    with http_server(Handler) as base:
        async with surge.ClientSession() as s:
            with pytest.raises(surge.TooManyRedirects) as info:
                await s.get(f"{base}/loop", max_redirects=3)
    assert [r.url.path for r in info.value.history] == ["/loop"] * 3


async def test_redirect_to_non_http_scheme_is_refused() -> None:
    with http_server(Handler) as base:
        async with surge.ClientSession() as s:
            with pytest.raises(surge.NonHttpUrlRedirectClientError):
                await s.get(f"{base}/to-ftp")


async def test_authorization_dropped_when_the_host_changes() -> None:
    with http_server(Handler) as first, http_server(Handler) as second:
        async with surge.ClientSession() as s:
            auth = surge.BasicAuth("user", "secret")
            async with s.get(
                f"{first}/to-other", headers={"X-Target": f"{second}/landing"}, auth=auth
            ) as resp:
                assert (await resp.json())["auth"] is None
            async with s.get(
                f"{first}/to-other",
                headers={"X-Target": f"{second}/landing", "Authorization": "Bearer t"},
            ) as resp:
                assert (await resp.json())["auth"] is None
            # Same origin: credentials follow.
            async with s.get(f"{first}/redirect/302/same", auth=auth) as resp:
                assert (await resp.json())["auth"] == auth.encode()


class FakeResponse:
    def __init__(self, status: int, location: str | None, url: str) -> None:
        self.status = status
        self.reason = "X"
        headers: CIMultiDict[str] = CIMultiDict()
        if location is not None:
            headers["Location"] = location
        self.headers = CIMultiDictProxy(headers)
        self.url = URL(url)
        self.request_info = None


def test_policy_is_io_free() -> None:
    req = ClientRequest(
        "POST", URL("http://a.example/start"), headers=CIMultiDict(), payload=Payload(b"x")
    )
    flow = follow_redirects(req, max_redirects=5)
    first = next(flow)
    assert first is req
    second = flow.send(FakeResponse(303, "/next?q=1", "http://a.example/start"))
    assert (second.method, str(second.url), second.payload.data) == (
        "GET",
        "http://a.example/next?q=1",
        b"",
    )
    with pytest.raises(StopIteration):
        flow.send(FakeResponse(200, None, "http://a.example/next"))


def test_policy_does_not_replay_a_streamed_body() -> None:
    async def gen():  # type: ignore[no-untyped-def]
        yield b"x"

    req = ClientRequest(
        "PUT", URL("http://a.example/"), headers=CIMultiDict(), payload=Payload(stream=gen())
    )
    flow = follow_redirects(req)
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(FakeResponse(307, "/again", "http://a.example/"))
