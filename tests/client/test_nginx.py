"""Keep-alive and pooling against nginx: connections are reused across many requests, and
nginx closing them (keepalive_requests, keepalive_timeout) never surfaces as an error."""

from __future__ import annotations

import asyncio

import pytest

import surge
from tests.client.nginx import nginx


async def _conn_ids(session: surge.ClientSession, url: str, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        async with session.get(url) as r:
            assert r.status == 200
            ids.append(await r.text())
    return ids


async def test_sequential_requests_share_one_connection() -> None:
    with nginx() as base:
        async with surge.ClientSession() as s:
            ids = await _conn_ids(s, f"{base}/conn", 200)
    assert len(set(ids)) == 1


async def test_concurrent_requests_stay_within_the_limit_and_are_reused() -> None:
    with nginx() as base:
        connector = surge.TCPConnector(limit=8)
        async with surge.ClientSession(connector=connector) as s:

            async def worker() -> list[str]:
                return await _conn_ids(s, f"{base}/conn", 50)

            results = await asyncio.gather(*(worker() for _ in range(16)))
    ids = [i for batch in results for i in batch]
    assert len(ids) == 800
    assert len(set(ids)) <= 8


async def test_keepalive_requests_limit_is_not_an_error() -> None:
    with nginx(keepalive_requests=5) as base:
        async with surge.ClientSession() as s:
            ids = await _conn_ids(s, f"{base}/conn", 50)
            concurrent = await asyncio.gather(*(_conn_ids(s, f"{base}/conn", 20) for _ in range(4)))
    assert len(set(ids)) == 10  # nginx closes every 5th; the client moves on cleanly
    assert all(len(batch) == 20 for batch in concurrent)


async def test_keepalive_timeout_closing_pooled_connections_is_not_an_error() -> None:
    with nginx(keepalive_timeout="100ms") as base:
        connector = surge.TCPConnector(limit=4, keepalive_timeout=60)
        async with surge.ClientSession(connector=connector) as s:
            for _ in range(3):
                batch = await asyncio.gather(*(_conn_ids(s, f"{base}/conn", 3) for _ in range(4)))
                assert all(len(ids) == 3 for ids in batch)
                await asyncio.sleep(0.3)  # nginx closes the idle connections meanwhile
            async with s.head(f"{base}/") as r:
                assert r.status == 200
            async with s.get(f"{base}/echo?x=1") as r:
                assert await r.text() == "GET /echo?x=1"


async def test_server_closed_connection_in_the_pool_is_replaced_transparently() -> None:
    # The race aiohttp users hit: the server closes while the connection sits in the pool and
    # the close has not been noticed yet; the idempotent request must simply succeed.
    with nginx(keepalive_timeout="100ms") as base:
        async with surge.ClientSession() as s:
            first = await _conn_ids(s, f"{base}/conn", 1)
            await asyncio.sleep(0.3)
            second = await _conn_ids(s, f"{base}/conn", 1)
    assert first != second


def test_keep_alive_on_uvloop() -> None:
    # uvloop's transports are not asyncio.Transport subclasses and it leaves Nagle on:
    # the connection must work with them all the same.
    uvloop = pytest.importorskip("uvloop")

    async def main(base: str) -> list[str]:
        async with surge.ClientSession() as s:
            return await _conn_ids(s, f"{base}/conn", 20)

    with nginx() as base:
        ids = uvloop.run(main(base))
    assert len(ids) == 20
    assert len(set(ids)) == 1
