"""A surge WebSocket echo server for conformance runs: ``python -m tests.ws.echo_server PORT``."""

from __future__ import annotations

import sys

from surge import web

MAX_MSG_SIZE = 16 * 1024 * 1024


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=MAX_MSG_SIZE, timeout=2.0)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == web.WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == web.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", echo)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None)
