"""The aiohttp names implemented in surge.compat: payload classes, MultipartWriter, streamer,
data queues, ChainMapProxy, CleanupError; bodies checked on an independent server."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest

import surge
from surge import web
from tests.examples.test_spec_client import api  # noqa: F401 - the http.server fixture


def _post(base: str, data: Any) -> None:
    async def go() -> None:
        async with surge.ClientSession() as session, session.post(base + "/p", data=data) as r:
            assert r.status == 200

    asyncio.run(go())


def test_payload_classes_are_sent_as_bodies(api: Any) -> None:  # noqa: F811
    base, rec = api
    _post(base, surge.JsonPayload({"a": 1}))
    _post(base, surge.StringPayload("héllo"))
    _post(base, surge.BytesIOPayload(io.BytesIO(b"from bytesio")))
    _post(base, surge.get_payload(b"raw"))
    assert json.loads(rec.seen[0]["body"]) == {"a": 1}
    assert rec.seen[0]["headers"]["Content-Type"] == "application/json"
    assert rec.seen[1]["body"] == "héllo".encode()
    assert rec.seen[1]["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert rec.seen[2]["body"] == b"from bytesio"
    assert rec.seen[3]["body"] == b"raw"


def test_multipart_writer_and_streamer(api: Any) -> None:  # noqa: F811
    base, rec = api
    with surge.MultipartWriter("form-data", boundary="XyZ") as mp:
        mp.append("text part")
        mp.append_json({"k": "v"})
    _post(base, mp)
    body = rec.seen[0]["body"]
    assert rec.seen[0]["headers"]["Content-Type"] == "multipart/form-data; boundary=XyZ"
    # Byte for byte what aiohttp 3.14's MultipartWriter produces for the same parts.
    assert body == (
        b"--XyZ\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b'Content-Disposition: form-data; name="section-0"\r\n\r\ntext part\r\n'
        b"--XyZ\r\nContent-Type: application/json\r\n"
        b'Content-Disposition: form-data; name="section-1"\r\n\r\n{"k": "v"}\r\n--XyZ--\r\n'
    )

    @surge.streamer
    async def sender(writer: Any, count: int) -> None:
        for i in range(count):
            await writer.write(f"chunk{i};".encode())

    _post(base, sender(3))
    assert rec.seen[1]["body"] == b"chunk0;chunk1;chunk2;"


async def test_data_queue() -> None:
    queue: surge.DataQueue[str] = surge.DataQueue(asyncio.get_running_loop())
    reader = asyncio.ensure_future(queue.read())
    await asyncio.sleep(0)
    queue.feed_data("a", 1)
    assert await reader == "a"
    queue.feed_data("b", 1)
    queue.feed_eof()
    assert [item async for item in queue] == ["b"]
    assert queue.at_eof()
    with pytest.raises(surge.EofStream):
        await queue.read()


def test_chain_map_proxy_and_etag() -> None:
    proxy = surge.ChainMapProxy([{"a": 1}, {"a": 2, "b": 3}])
    assert (proxy["a"], proxy["b"], proxy.get("c"), len(proxy)) == (1, 3, None, 2)
    assert sorted(proxy) == ["a", "b"]
    assert surge.ETag("x", is_weak=True) == surge.ETag(value="x", is_weak=True)
    assert surge.encode_basic_auth("user", "pw") == "Basic dXNlcjpwdw=="


async def test_cleanup_error_is_runtime_error_and_group() -> None:
    app = web.Application()

    async def ctx(app: web.Application) -> Any:
        yield
        raise ValueError("one")

    async def ctx2(app: web.Application) -> Any:
        yield
        raise KeyError("two")

    app.cleanup_ctx.extend([ctx, ctx2])
    runner = web.AppRunner(app)
    await runner.setup()
    with pytest.raises(web.CleanupError) as info:
        await runner.cleanup()
    assert isinstance(info.value, RuntimeError)
    assert sorted(type(e).__name__ for e in info.value.exceptions) == ["KeyError", "ValueError"]
