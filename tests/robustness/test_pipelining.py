"""Pipelined requests: answered in order, with a bounded queue of unhandled requests."""

from __future__ import annotations

import asyncio

from surge import web
from tests.robustness.util import exchange, request, serve_recording, statuses


def slow_app(reading: list[bool]) -> web.Application:
    async def slow(req: web.Request) -> web.Response:
        assert req.transport is not None
        reading.append(req.transport.is_reading())
        await asyncio.sleep(0.001)  # let the loop run: more bytes would be read if allowed
        return web.Response(text=f"<{req.match_info['n']}>")

    app = web.Application()
    app.router.add_get("/n/{n}", slow)
    return app


async def test_pipelined_responses_in_request_order() -> None:
    reading: list[bool] = []
    async with serve_recording(slow_app(reading)) as (port, _):
        data = b"".join(request(f"/n/{i}") for i in range(10))
        received, _ = await exchange(port, data, timeout=0.5)
    assert statuses(received) == [200] * 10
    order = [int(x.split(b">")[0]) for x in received.split(b"<")[1:]]
    assert order == list(range(10))


async def test_many_pipelined_requests_pause_reading_and_all_get_answers() -> None:
    reading: list[bool] = []
    async with serve_recording(slow_app(reading), max_pipelined=4) as (port, _):
        n = 30  # above max_pipelined, below the hard bound (8 x max_pipelined)
        data = b"".join(request(f"/n/{i}") for i in range(n))
        received, closed = await exchange(port, data, timeout=1.0)
    assert statuses(received) == [200] * n
    order = [int(x.split(b">")[0]) for x in received.split(b"<")[1:]]
    assert order == list(range(n))
    assert False in reading  # the server stopped reading while requests were queued
    assert not closed


async def test_pipelined_flood_is_refused_past_the_hard_bound() -> None:
    reading: list[bool] = []
    async with serve_recording(slow_app(reading), max_pipelined=4) as (port, _):
        data = b"".join(request(f"/n/{i}") for i in range(500))  # one write, one read
        received, closed = await exchange(port, data)
    codes = statuses(received)
    assert codes[-1] == 503
    assert codes[:-1] == [200] * (len(codes) - 1)
    assert len(codes) - 1 <= 4 * 8  # never more queued than the hard bound
    order = [int(x.split(b">")[0]) for x in received.split(b"<")[1:]]
    assert order == list(range(len(codes) - 1))
    assert closed
