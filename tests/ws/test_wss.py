"""``ws_connect`` over TLS to a server that also speaks HTTP/2: the handshake offers only
HTTP/1.1 by ALPN, even on a context an https request of the same session set up for h2."""

from __future__ import annotations

import ssl

import trustme

import surge
from surge import web


async def test_wss_to_an_h2_server_with_a_context_shared_with_https() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(f"{request.version.major}:{msg.data}")
        return ws

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="page")

    app = web.Application()
    app.router.add_get("/ws", echo)
    app.router.add_get("/page", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    base = f"localhost:{site.port}"
    try:
        async with surge.ClientSession() as session:
            async with session.get(f"https://{base}/page", ssl=client_ctx) as resp:
                assert resp.version.major == 2  # the context now offers h2
            for _ in range(2):
                async with session.ws_connect(f"wss://{base}/ws", ssl=client_ctx) as ws:
                    await ws.send_str("over tls")
                    assert await ws.receive_str() == "1:over tls"
            async with session.get(f"https://{base}/page", ssl=client_ctx) as resp:
                assert await resp.text() == "page"
        async with (
            surge.ClientSession(connector=surge.TCPConnector(ssl=client_ctx)) as session,
            session.ws_connect(f"wss://{base}/ws") as ws,
        ):
            await ws.send_str("connector context")
            assert await ws.receive_str() == "1:connector context"
    finally:
        await runner.cleanup()
