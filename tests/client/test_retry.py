"""Built-in retries: the I/O-free policy, and the session driving it against raw servers."""

from __future__ import annotations

import asyncio

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import surge
from surge.client.payload import Payload
from surge.client.policies.retry import RetryOptions, retry_after_seconds, retry_policy
from surge.client.request import ClientRequest
from tests.client.servers import raw_server, read_request, reply

FAST = RetryOptions(attempts=3, backoff=0.001, max_backoff=0.002)


class _Resp:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = CIMultiDictProxy(CIMultiDict(headers or {}))


def _req(method: str = "GET") -> ClientRequest:
    return ClientRequest(method, URL("http://h/"), headers=CIMultiDict())


def test_policy_backs_off_then_accepts() -> None:
    opts = RetryOptions(attempts=3, backoff=1.0, jitter=0.0)
    policy = retry_policy(_req(), opts)
    assert isinstance(next(policy), ClientRequest)
    assert policy.send(_Resp(503)) == 1.0
    assert isinstance(next(policy), ClientRequest)
    assert policy.send(_Resp(502)) == 2.0
    next(policy)
    with pytest.raises(StopIteration):  # attempts used up: the last answer stands
        policy.send(_Resp(503))


def test_policy_honours_retry_after_and_jitter() -> None:
    opts = RetryOptions(attempts=5, backoff=1.0, jitter=0.5, max_retry_after=10)
    policy = retry_policy(_req(), opts, rand=lambda: 1.0)
    next(policy)
    assert policy.send(_Resp(429, {"Retry-After": "7"})) == 7.0
    next(policy)
    assert policy.send(_Resp(500)) == 1.0  # 2.0 less 50% jitter
    next(policy)
    with pytest.raises(StopIteration):  # longer than we are willing to wait
        policy.send(_Resp(503, {"Retry-After": "3600"}))


def test_policy_leaves_non_idempotent_and_streams_alone() -> None:
    policy = retry_policy(_req("POST"), FAST)
    next(policy)
    with pytest.raises(StopIteration):
        policy.send(_Resp(503))
    streamed = ClientRequest(
        "PUT", URL("http://h/"), headers=CIMultiDict(), payload=Payload(stream=_agen())
    )
    policy = retry_policy(streamed, FAST)
    next(policy)
    with pytest.raises(surge.ServerDisconnectedError):
        policy.throw(surge.ServerDisconnectedError())


async def _agen():  # type: ignore[no-untyped-def]
    yield b"x"


def test_policy_retries_listed_exceptions_only() -> None:
    policy = retry_policy(_req(), FAST, rand=lambda: 0.0)
    next(policy)
    assert policy.throw(surge.ServerDisconnectedError()) == 0.001
    next(policy)
    with pytest.raises(ValueError):
        policy.throw(ValueError("not ours"))


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_session_retries_5xx_until_success() -> None:
    answers = [reply(503, b"busy", {"Retry-After": "0"}), reply(500, b"oops"), reply(200, b"ok")]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            await read_request(reader)
            writer.write(answers.pop(0))
            await writer.drain()

    async with (
        raw_server(handler) as srv,
        surge.ClientSession(retry=FAST) as s,
        s.get(srv.url) as r,
    ):
        assert r.status == 200
        assert await r.read() == b"ok"
    assert answers == []


async def test_session_does_not_retry_post_or_when_turned_off() -> None:
    seen = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        while True:
            await read_request(reader)
            seen += 1
            writer.write(reply(503, b"busy"))
            await writer.drain()

    async with raw_server(handler) as srv, surge.ClientSession(retry=FAST) as s:
        async with s.post(srv.url, data=b"x") as r:
            assert r.status == 503
        assert seen == 1
        async with s.get(srv.url, retry=None) as r:
            assert r.status == 503
        assert seen == 2
        async with s.get(srv.url) as r:
            assert r.status == 503  # three tries, all busy: the last answer stands
        assert seen == 5


async def test_session_retries_a_dropped_connection() -> None:
    drops = 2

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal drops
        await read_request(reader)
        if drops:
            drops -= 1
            return  # closed without an answer
        writer.write(reply(200, b"finally"))
        await writer.drain()

    async with raw_server(handler) as srv, surge.ClientSession() as s:
        with pytest.raises(surge.ServerDisconnectedError):
            await s.get(srv.url)
        drops = 2
        async with s.get(srv.url, retry=FAST) as r:
            assert await r.read() == b"finally"
    assert srv.connections == 4
