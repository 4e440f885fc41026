"""Upload and download progress callbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from surge import ClientSession, web
from tests.helpers import serve

BIG = b"x" * 300_000


def _app() -> web.Application:
    async def sink(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=BIG)

    app = web.Application()
    app.router.add_post("/sink", sink)
    app.router.add_get("/big", big)
    return app


async def test_download_progress_counts_up_to_the_content_length() -> None:
    calls: list[tuple[int, int | None]] = []
    async with (
        serve(_app()) as base,
        ClientSession(auto_decompress=False) as s,
        s.get(
            f"{base}/big",
            on_download_progress=lambda n, total: calls.append((n, total)),
            headers={"Accept-Encoding": "identity"},
        ) as r,
    ):
        assert await r.read() == BIG
    assert calls[-1] == (len(BIG), len(BIG))
    assert [n for n, _ in calls] == sorted(n for n, _ in calls)


async def test_upload_progress_for_bytes_and_streams() -> None:
    calls: list[tuple[int, int | None]] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"y" * 1000

    async with (
        serve(_app()) as base,
        ClientSession(on_upload_progress=lambda n, t: calls.append((n, t))) as s,
    ):
        async with s.post(f"{base}/sink", data=b"z" * 5000) as r:
            assert await r.text() == "5000"
        assert calls == [(5000, 5000)]
        calls.clear()
        async with s.post(f"{base}/sink", data=chunks()) as r:
            assert await r.text() == "3000"
    assert calls == [(1000, None), (2000, None), (3000, None)]
