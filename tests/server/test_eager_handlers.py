"""Handlers of an idle keep-alive connection start right in data_received, in the name and
context of the connection's serving task; the ones that wait are finished by that task. Both
paths must look to a handler exactly like running inside a task."""

from __future__ import annotations

import asyncio
import contextvars
import re

import httpx

from surge import web
from tests.helpers import raw_exchange, serve

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="-")


def _app() -> web.Application:
    tasks: list[asyncio.Task[object] | None] = []

    async def task_name(request: web.Request) -> web.Response:
        task = asyncio.current_task()
        tasks.append(task)
        return web.Response(text=str(len({id(t) for t in tasks if t is not None})))

    async def sync_timeout(request: web.Request) -> web.Response:
        async with asyncio.timeout(5):
            return web.Response(text="in time")

    async def expires(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(5)
        except TimeoutError:
            return web.Response(text="timed out", status=504)
        return web.Response(text="no")

    async def waits(request: web.Request) -> web.Response:
        await asyncio.sleep(0.01)
        return web.Response(text=f"waited {request.query.get('n', '')}")

    async def set_var(request: web.Request) -> web.Response:
        before = seen.get()
        seen.set(request.query["v"])
        return web.Response(text=before)

    async def set_var_after_waiting(request: web.Request) -> web.Response:
        await asyncio.sleep(0.01)
        before = seen.get()
        seen.set(request.query["v"])
        return web.Response(text=before)

    async def fails(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    async def cancels(request: web.Request) -> web.Response:
        raise asyncio.CancelledError

    app = web.Application()
    for path, handler in [
        ("/task", task_name),
        ("/sync-timeout", sync_timeout),
        ("/expires", expires),
        ("/waits", waits),
        ("/var", set_var),
        ("/var-wait", set_var_after_waiting),
        ("/fails", fails),
        ("/cancels", cancels),
    ]:
        app.router.add_get(path, handler)
    return app


async def test_handlers_see_one_current_task_per_connection_and_timeouts_work() -> None:
    async with serve(_app()) as base, httpx.AsyncClient(base_url=base) as client:
        answers = [(await client.get("/task")).text for _ in range(5)]
        assert answers == ["1"] * 5  # never None, always the connection's task
        response = await client.get("/sync-timeout")
        assert (response.status_code, response.text) == (200, "in time")
        response = await client.get("/expires")
        assert (response.status_code, response.text) == (504, "timed out")
        response = await client.get("/task")
        assert response.text == "1"  # the connection still serves from the same task


async def test_waiting_and_non_waiting_handlers_interleave_in_order() -> None:
    async with serve(_app()) as base, httpx.AsyncClient(base_url=base) as client:
        for n in range(3):
            assert (await client.get("/waits", params={"n": n})).text == f"waited {n}"
            assert (await client.get("/sync-timeout")).text == "in time"
            assert (await client.get("/fails")).status_code == 500
    async with serve(_app()) as base:
        port = int(base.rsplit(":", 1)[1])
        pipelined = (
            b"GET /waits?n=1 HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET /sync-timeout HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET /waits?n=2 HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET /fails HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET /sync-timeout HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        )
        raw = await raw_exchange(port, pipelined)
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)
        assert statuses == [b"200", b"200", b"200", b"500", b"200"]
        bodies = re.findall(rb"\r\n\r\n(waited \d|in time|500 Internal)", raw)
        assert bodies == [b"waited 1", b"in time", b"waited 2", b"500 Internal", b"in time"]


async def test_context_variables_stay_with_their_request() -> None:
    # As aiohttp (a task per request): what a handler sets is not seen by the next request,
    # on the same connection or another, whether it started eagerly or was handed over.
    async with serve(_app()) as base:
        async with httpx.AsyncClient(base_url=base) as first:
            assert (await first.get("/var", params={"v": "a"})).text == "-"
            assert (await first.get("/var", params={"v": "b"})).text == "-"
            assert (await first.get("/var-wait", params={"v": "w"})).text == "-"
            assert (await first.get("/var", params={"v": "c"})).text == "-"
            assert (await first.get("/var-wait", params={"v": "x"})).text == "-"
        async with httpx.AsyncClient(base_url=base) as second:
            assert (await second.get("/var", params={"v": "d"})).text == "-"
    assert seen.get() == "-"  # nothing leaked into the test's (the server's) context


async def test_handler_raising_cancelled_error_closes_its_connection() -> None:
    """A handler that raises CancelledError leaves its request unanswered: the connection
    closes (as aiohttp's does) and what was pipelined behind it is not served, whether the
    handler started eagerly or in the serving task; other connections go on."""
    async with serve(_app()) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            # The first request starts the serving task; the next ones start eagerly.
            writer.write(b"GET /task HTTP/1.1\r\nHost: h\r\n\r\n")
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n1"), 2)
            writer.write(
                b"GET /cancels HTTP/1.1\r\nHost: h\r\n\r\nGET /task HTTP/1.1\r\nHost: h\r\n\r\n"
            )
            assert await asyncio.wait_for(reader.read(), 2) == b""  # closed, nothing sent
        finally:
            writer.close()
        first = b"GET /cancels HTTP/1.1\r\nHost: h\r\n\r\nGET /task HTTP/1.1\r\nHost: h\r\n\r\n"
        assert await raw_exchange(port, first) == b""  # the serving task's path: the same
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/task")).status_code == 200
            assert (await client.get("/waits", params={"n": 4})).text == "waited 4"
