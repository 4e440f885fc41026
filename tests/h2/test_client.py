"""The surge client over HTTP/2: against surge's own server, hypercorn and nghttpd."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import socket
import ssl
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trustme

from surge import ClientSession, ClientTimeout, CookieJar, TCPConnector, web
from surge.client.exceptions import ServerTimeoutError
from tests.conftest import require_tool
from tests.h2.app import CHUNK, build_app
from tests.h2.helpers import serve_tls
from tests.helpers import serve


def _full_app(state: dict[str, Any]) -> web.Application:
    app = build_app(state)

    async def set_cookie(request: web.Request) -> web.Response:
        resp = web.Response(text="set")
        resp.set_cookie("flavour", "oat")
        return resp

    async def show_cookie(request: web.Request) -> web.Response:
        return web.Response(text=request.cookies.get("flavour", "none"))

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/info")

    async def gz(request: web.Request) -> web.Response:
        body = gzip.compress(b"squeezed " * 100)
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    app.router.add_get("/set", set_cookie)
    app.router.add_get("/show", show_cookie)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/gz", gz)
    app.router.add_get("/hang", hang)
    return app


def _only_connection(session: ClientSession) -> Any:
    conns = [c for group in session.connector._h2.values() for c in group]  # type: ignore[union-attr]
    assert len(conns) == 1
    return conns[0]


async def _features(session: ClientSession, url: str) -> None:
    """Everything the client does, over one HTTP/2 session."""
    async with session.get(f"{url}/info") as resp:
        assert resp.status == 200
        assert resp.version == (2, 0)
        data = await resp.json()
        assert data["version"] == [2, 0]
    # Request body up, response body down.
    async with session.post(f"{url}/echo", data=b"a" * 100_000) as resp:
        assert await resp.read() == b"a" * 100_000
    # Streaming both ways.

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"%d" % i * 1000

    async with session.post(f"{url}/echo", data=chunks()) as resp:
        assert await resp.read() == b"".join(b"%d" % i * 1000 for i in range(5))
    async with session.get(f"{url}/stream?n=64") as resp:
        total = 0
        async for chunk in resp.content.iter_chunked(10_000):
            total += len(chunk)
        assert total == 64 * len(CHUNK)
    # Cookies, redirects, decompression.
    async with session.get(f"{url}/set") as resp:
        assert await resp.text() == "set"
    async with session.get(f"{url}/show") as resp:
        assert await resp.text() == "oat"
    async with session.get(f"{url}/redirect") as resp:
        assert resp.status == 200 and len(resp.history) == 1
        assert str(resp.url).endswith("/info")
    async with session.get(f"{url}/gz") as resp:
        assert await resp.read() == b"squeezed " * 100
    # A timeout ends one stream, not the connection.
    with pytest.raises((ServerTimeoutError, TimeoutError)):
        async with session.get(f"{url}/hang", timeout=ClientTimeout(total=0.2)) as resp:
            await resp.read()
    async with session.get(f"{url}/info") as resp:
        assert resp.version == (2, 0)
    _only_connection(session)


async def test_prior_knowledge_against_surge() -> None:
    state: dict[str, Any] = {}
    async with (
        serve(_full_app(state)) as url,
        ClientSession(http2="prior_knowledge", cookie_jar=CookieJar(unsafe=True)) as s,
    ):
        await _features(s, url)


async def test_alpn_against_surge_tls_and_opt_out() -> None:
    state: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with serve_tls(_full_app(state), os.path.join(tmp, "ca.pem")) as (url, ctx):
            jar = CookieJar(unsafe=True)
            async with ClientSession(connector=TCPConnector(ssl=ctx), cookie_jar=jar) as s:
                await _features(s, url)
            # A fresh context: the one above was given ALPN h2 by the first session.
            ctx = ssl.create_default_context(cafile=os.path.join(tmp, "ca.pem"))
            connector = TCPConnector(ssl=ctx)
            async with (
                ClientSession(connector=connector, http2=False) as s,
                s.get(f"{url}/info") as resp,
            ):
                assert resp.version == (1, 1)
                assert (await resp.json())["version"] == [1, 1]


async def test_concurrent_requests_share_one_connection_then_open_another() -> None:
    state: dict[str, Any] = {"release": asyncio.Event()}
    app = build_app(state)
    from surge.http.h2.settings import H2Limits

    limits = H2Limits(max_concurrent_streams=10)
    async with serve(app, http2_limits=limits) as url, ClientSession(http2="prior_knowledge") as s:

        async def get(i: int) -> Any:
            return await s.get(f"{url}/slow?i={i}")

        tasks = [asyncio.create_task(get(i)) for i in range(15)]
        for _ in range(200):
            await asyncio.sleep(0.01)
            if state["active"] == 15:
                break
        assert state["active"] == 15
        conns = [c for group in s.connector._h2.values() for c in group]  # type: ignore[union-attr]
        assert sorted(c.reserved for c in conns) == [5, 10]
        assert len(state["transports"]) == 2
        state["release"].set()
        responses = await asyncio.gather(*tasks)
        assert [await r.text() for r in responses] == [str(i) for i in range(15)]


async def test_plain_http_without_prior_knowledge_stays_http11() -> None:
    async with serve(build_app()) as url, ClientSession() as s, s.get(f"{url}/") as resp:
        assert resp.version == (1, 1)
        assert await resp.text() == "hello 1.1"


# hypercorn (an independent HTTP/2 server) ------------------------------------------------


async def _hypercorn_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    headers = [(b"content-type", b"text/plain")]
    if path == "/big":  # 4 MiB in 64 KiB pieces, more than the client's stream window
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i in range(64):
            piece = bytes([65 + i % 26]) * 65536
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/trailers":  # hypercorn sends them when the request says TE: trailers
        await send(
            {"type": "http.response.start", "status": 200, "headers": headers, "trailers": True}
        )
        await send({"type": "http.response.body", "body": b"with trailers"})
        trailers = [(b"grpc-status", b"0"), (b"x-digest", b"abc")]
        await send({"type": "http.response.trailers", "headers": trailers})
        return
    if path == "/slow":
        await asyncio.sleep(1)  # past the client's 0.3 s timeout; short for hypercorn's shutdown
    if path == "/gz":
        payload = gzip.compress(b"hyper " * 50)
        headers.append((b"content-encoding", b"gzip"))
    elif path == "/cookie":
        payload = b"set"
        headers.append((b"set-cookie", b"k=v; Path=/"))
    elif path == "/redirect":
        await send(
            {"type": "http.response.start", "status": 302, "headers": [(b"location", b"/echo")]}
        )
        await send({"type": "http.response.body", "body": b""})
        return
    else:
        cookie = dict(scope["headers"]).get(b"cookie", b"")
        payload = f"{scope['http_version']} {scope['method']} {len(body)} ".encode() + cookie
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@contextlib.asynccontextmanager
async def _hypercorn(tls: bool) -> AsyncIterator[tuple[str, ssl.SSLContext | None]]:
    from hypercorn.asyncio import serve as hserve
    from hypercorn.config import Config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    client_ctx = None
    with tempfile.TemporaryDirectory() as tmp:
        if tls:
            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1")
            config.certfile = os.path.join(tmp, "cert.pem")
            config.keyfile = os.path.join(tmp, "key.pem")
            cert.cert_chain_pems[0].write_to_path(config.certfile)
            cert.private_key_pem.write_to_path(config.keyfile)
            client_ctx = ssl.create_default_context()
            ca.configure_trust(client_ctx)
        stop = asyncio.Event()
        task = asyncio.create_task(hserve(_hypercorn_app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            await asyncio.sleep(0.02)
        try:
            yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", client_ctx
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("tls", [True, False], ids=["tls-alpn", "h2c-prior-knowledge"])
async def test_against_hypercorn(tls: bool) -> None:
    async with _hypercorn(tls) as (url, ctx):
        connector = TCPConnector(ssl=ctx) if ctx is not None else TCPConnector()
        async with ClientSession(
            connector=connector,
            http2=True if tls else "prior_knowledge",
            cookie_jar=CookieJar(unsafe=True),
        ) as s:
            results = await asyncio.gather(
                *[s.post(f"{url}/echo", data=b"x" * i) for i in range(20)]
            )
            for i, resp in enumerate(results):
                assert resp.version == (2, 0)
                assert await resp.text() == f"2 POST {i} "
            _only_connection(s)
            async with s.get(f"{url}/gz") as resp:
                assert await resp.read() == b"hyper " * 50
            async with s.get(f"{url}/cookie") as resp:
                assert await resp.text() == "set"
            async with s.get(f"{url}/redirect") as resp:
                assert resp.status == 200 and len(resp.history) == 1
                assert await resp.text() == "2 GET 0 k=v"
            async with s.get(f"{url}/big") as resp:
                got = b""
                async for piece in resp.content.iter_chunked(100_000):
                    got += piece
                    await asyncio.sleep(0)
                assert got == b"".join(bytes([65 + i % 26]) * 65536 for i in range(64))
            with pytest.raises((ServerTimeoutError, TimeoutError)):
                await s.get(f"{url}/slow", timeout=ClientTimeout(total=0.3))
            async with s.get(f"{url}/cookie") as resp:  # the connection outlived the timeout
                assert await resp.text() == "set"
            _only_connection(s)


async def test_response_trailers_from_hypercorn() -> None:
    async with (
        _hypercorn(False) as (url, _),
        ClientSession(http2="prior_knowledge") as s,
        s.get(f"{url}/trailers", headers={"TE": "trailers"}) as resp,
    ):
        assert resp.version == (2, 0)
        assert resp.trailers == {}  # not before the body is read
        assert await resp.text() == "with trailers"
        assert dict(resp.trailers) == {"grpc-status": "0", "x-digest": "abc"}
        assert "x-digest" not in resp.headers


# nghttpd serving a directory --------------------------------------------------------------


@contextlib.contextmanager
def _nghttpd(root: str, tmp: str) -> Iterator[tuple[str, ssl.SSLContext]]:
    path = require_tool("nghttpd")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen(
        [path, "-d", root, "-a", "127.0.0.1", str(port), keyfile, certfile],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            if proc.poll() is not None:
                raise RuntimeError("nghttpd did not start")
            import time

            time.sleep(0.02)
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        yield f"https://127.0.0.1:{port}", ctx
    finally:
        proc.terminate()
        proc.wait(5)


async def test_against_nghttpd_directory() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "www")
        os.mkdir(root)
        files = {f"f{i}.bin": os.urandom(1000 * (i + 1)) for i in range(10)}
        files["big.bin"] = os.urandom(3 * 2**20)
        for name, data in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        with _nghttpd(root, tmp) as (url, ctx):
            async with ClientSession(connector=TCPConnector(ssl=ctx)) as s:
                names = list(files)
                responses = await asyncio.gather(*[s.get(f"{url}/{n}") for n in names])
                for name, resp in zip(names, responses, strict=True):
                    assert resp.status == 200 and resp.version == (2, 0)
                    assert await resp.read() == files[name]
                async with s.get(f"{url}/missing") as resp:
                    assert resp.status == 404
                _only_connection(s)


# stream-level failures stay stream-level ------------------------------------------------


def _failing_app() -> web.Application:
    app = build_app()

    async def broken(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"partial")
        raise RuntimeError("handler failed mid-body")

    async def quiet(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"first")
        await asyncio.sleep(5)
        return resp

    app.router.add_get("/broken", broken)
    app.router.add_get("/quiet", quiet)
    return app


async def test_reset_timeout_and_early_release_end_one_stream() -> None:
    from surge import ClientPayloadError

    async with serve(_failing_app()) as url, ClientSession(http2="prior_knowledge") as s:
        # The server resets a stream whose handler failed after the head: the body fails.
        async with s.get(f"{url}/broken") as resp:
            assert resp.status == 200
            with pytest.raises(ClientPayloadError):
                await resp.read()
        # sock_read: nothing more arrives on this stream.
        async with s.get(f"{url}/quiet", timeout=ClientTimeout(sock_read=0.2)) as resp:
            with pytest.raises((ClientPayloadError, TimeoutError)):
                await resp.read()
        # A body released unread (16 MiB on offer) resets its stream only.
        resp = await s.get(f"{url}/stream?n=1024")
        assert await resp.content.read(100) == CHUNK[:100]
        resp.release()
        conn = _only_connection(s)
        async with s.get(f"{url}/info") as resp:
            assert (await resp.json())["version"] == [2, 0]
        assert _only_connection(s) is conn
        assert conn.reserved == 0


async def test_server_goaway_then_a_new_connection() -> None:
    async with (
        serve(build_app(), keepalive_timeout=0.2) as url,
        ClientSession(http2="prior_knowledge") as s,
    ):
        async with s.get(f"{url}/") as resp:
            assert await resp.text() == "hello 2.0"
        first = _only_connection(s)
        for _ in range(100):  # the server's idle timeout sends GOAWAY and closes
            await asyncio.sleep(0.02)
            if first.closed:
                break
        assert first.closed
        async with s.get(f"{url}/") as resp:
            assert await resp.text() == "hello 2.0"
        assert _only_connection(s) is not first


async def test_slow_reader_of_a_large_body_gets_all_of_it() -> None:
    """16 MiB through a 1 MiB stream window: the reader pauses, acknowledgements wait, the
    server waits for window, and every byte arrives."""
    async with serve(build_app()) as url, ClientSession(http2="prior_knowledge") as s:
        async with s.get(f"{url}/stream?n=1024") as resp:
            total = 0
            async for chunk in resp.content.iter_chunked(2**20):
                total += len(chunk)
                assert chunk == b"x" * len(chunk)
                await asyncio.sleep(0.005)
            assert total == 1024 * len(CHUNK)
        conn = _only_connection(s)
        assert conn.reserved == 0


async def test_tracing_sees_one_connection_then_reuse() -> None:
    from surge import TraceConfig

    seen: list[str] = []

    async def created(session: Any, ctx: Any, params: Any) -> None:
        seen.append("create")

    async def reused(session: Any, ctx: Any, params: Any) -> None:
        seen.append("reuse")

    trace = TraceConfig()
    trace.on_connection_create_end.append(created)
    trace.on_connection_reuseconn.append(reused)
    async with (
        serve(build_app()) as url,
        ClientSession(http2="prior_knowledge", trace_configs=[trace]) as s,
    ):
        for _ in range(3):
            async with s.get(f"{url}/") as resp:
                assert await resp.text() == "hello 2.0"
    assert seen == ["create", "reuse", "reuse"]


async def test_idle_connection_closes_after_keepalive_timeout() -> None:
    async with (
        serve(build_app()) as url,
        ClientSession(connector=TCPConnector(keepalive_timeout=0.1, http2="prior_knowledge")) as s,
    ):
        async with s.get(f"{url}/") as resp:
            assert await resp.text() == "hello 2.0"
        first = _only_connection(s)
        await asyncio.sleep(0.05)
        async with s.get(f"{url}/") as resp:  # activity restarts the idle clock
            assert await resp.text() == "hello 2.0"
        assert _only_connection(s) is first
        for _ in range(50):
            await asyncio.sleep(0.02)
            if first.closed:
                break
        assert first.closed and not s.connector._h2  # type: ignore[union-attr]
        assert s.connector._acquired_total == 0  # type: ignore[union-attr]
        async with s.get(f"{url}/") as resp:
            assert await resp.text() == "hello 2.0"
        assert _only_connection(s) is not first


async def test_varying_and_sensitive_request_headers_arrive_intact() -> None:
    """Many requests whose heads change (new table entries, evictions) and carry credentials
    and short cookies (never indexed): the server sees exactly what was sent, every time."""
    from surge import BasicAuth

    app = web.Application()

    async def show(request: web.Request) -> web.Response:
        h = request.headers
        return web.Response(text=f"{h.get('X-N')}|{h.get('Authorization')}|{h.get('Cookie')}")

    app.router.add_get("/", show)
    async with serve(app) as url, ClientSession(http2="prior_knowledge") as s:
        for i in range(60):
            if i % 2:  # the same plain head again and again: memoised
                auth, headers = None, {"X-N": "plain"}
            else:  # credentials and a new field value: changes the table, bypasses the memo
                auth = BasicAuth("user", f"pw{i}")
                headers = {"X-N": str(i) * (i % 7 + 1), "Cookie": f"c={i % 4}"}
            async with s.get(f"{url}/", auth=auth, headers=headers) as resp:
                assert resp.version == (2, 0)
                credentials = auth.encode() if auth is not None else None
                expected = f"{headers['X-N']}|{credentials}|{headers.get('Cookie')}"
                assert await resp.text() == expected
        _only_connection(s)
