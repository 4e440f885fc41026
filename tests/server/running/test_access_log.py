"""Access log lines for real requests: aiohttp's directives and a custom AbstractAccessLogger."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from surge import web


@contextlib.asynccontextmanager
async def serve(app: web.Application, **kwargs: Any) -> AsyncIterator[str]:
    runner = web.AppRunner(app, **kwargs)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site.port}"
    finally:
        await runner.cleanup()


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def capture_logger(name: str) -> tuple[logging.Logger, Capture]:
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = Capture()
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    return logger, handler


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello", headers={"X-Out": "out-value"})

    app = web.Application()
    app.router.add_get("/hello", hello)
    return app


async def test_every_directive_in_a_real_request() -> None:
    logger, capture = capture_logger("test.access.directives")
    fmt = '%a %t "%r" %s %b %T %Tf %D %P %{X-In}i %{X-Out}o %{Missing}i 100%%'
    async with (
        serve(make_app(), access_log=logger, access_log_format=fmt) as url,
        httpx.AsyncClient() as client,
    ):
        response = await client.get(f"{url}/hello?q=1", headers={"X-In": "in-value"})
    assert response.status_code == 200
    assert len(capture.records) == 1
    record = capture.records[0]
    line = record.getMessage()
    pattern = (
        r"127\.0\.0\.1 \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET /hello\?q=1 HTTP/1\.1" 200 \d+ (\d+) (\d+\.\d{6}) (\d+) '
        rf"<{os.getpid()}> in-value out-value - 100%"
    )
    match = re.fullmatch(pattern, line)
    assert match, line
    seconds, frac, micros = int(match[1]), float(match[2]), int(match[3])
    assert seconds == round(frac)
    assert abs(micros - frac * 1_000_000) <= 1
    # Structured values for log processors, as aiohttp puts them in the record.
    fields: Any = record.__dict__
    assert fields["remote_address"] == "127.0.0.1"
    assert fields["first_request_line"] == "GET /hello?q=1 HTTP/1.1"
    assert fields["response_status"] == "200"
    assert fields["request_header"] == {"X-In": "in-value", "Missing": "-"}
    assert fields["response_header"] == {"X-Out": "out-value"}


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", head)[1])  # type: ignore[index]
    return head + await reader.readexactly(length)


async def test_size_is_the_whole_response_on_the_wire() -> None:
    """``%b`` counts the head too, as aiohttp's does: compared with the bytes a raw socket
    receives, for an untouched Response(text=), one with headers, and a streamed one."""
    logger, capture = capture_logger("test.access.size")

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "6"})
        await response.prepare(request)
        await response.write(b"abc")
        await response.write(b"def")
        return response

    app = make_app()
    app.router.add_get("/plain", lambda request: _text("plain body"))
    app.router.add_get("/streamed", streamed)
    async with serve(app, access_log=logger, access_log_format="%r %b") as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
        received = {}
        for path in ("/plain", "/hello", "/streamed"):
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            received[path] = await read_response(reader)
        writer.close()
        await writer.wait_closed()
    logged = dict(r.getMessage().rsplit(" ", 1) for r in capture.records)
    for path, raw in received.items():
        assert int(logged[f"GET {path} HTTP/1.1"]) == len(raw), (path, raw)
    assert received["/streamed"].endswith(b"\r\n\r\nabcdef")


async def _text(body: str) -> web.Response:
    return web.Response(text=body)


async def test_default_format() -> None:
    logger, capture = capture_logger("test.access.default")
    async with serve(make_app(), access_log=logger) as url, httpx.AsyncClient() as client:
        await client.get(f"{url}/nope", headers={"Referer": "http://ref/", "User-Agent": "ua/1"})
    [record] = capture.records
    assert re.fullmatch(
        r'127\.0\.0\.1 \[[^\]]+\] "GET /nope HTTP/1\.1" 404 \d+ "http://ref/" "ua/1"',
        record.getMessage(),
    ), record.getMessage()


async def test_disabled_logger_logs_nothing() -> None:
    logger, capture = capture_logger("test.access.disabled")
    logger.setLevel(logging.WARNING)
    async with serve(make_app(), access_log=logger) as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/hello")).status_code == 200
    assert capture.records == []


class JsonishLogger(web.AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s -> %s in %s",
            request.method,
            request.path,
            response.status,
            "ok" if time >= 0 else "negative",
        )


async def test_custom_access_logger_class() -> None:
    logger, capture = capture_logger("test.access.custom")
    async with (
        serve(make_app(), access_log=logger, access_log_class=JsonishLogger) as url,
        httpx.AsyncClient() as client,
    ):
        await client.get(f"{url}/hello")
        await client.post(f"{url}/hello")
    assert [r.getMessage() for r in capture.records] == [
        "GET /hello -> 200 in ok",
        "POST /hello -> 405 in ok",
    ]


class SwitchedOff(web.AbstractAccessLogger):
    @property
    def enabled(self) -> bool:
        return False

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        raise AssertionError("a disabled access logger must not be called")


async def test_custom_logger_can_disable_itself() -> None:
    logger, capture = capture_logger("test.access.off")
    async with (
        serve(make_app(), access_log=logger, access_log_class=SwitchedOff) as url,
        httpx.AsyncClient() as client,
    ):
        assert (await client.get(f"{url}/hello")).status_code == 200
    assert capture.records == []
