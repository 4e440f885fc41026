"""StreamReader: aiohttp's documented reading methods, EOF, exceptions and flow control."""

from __future__ import annotations

import asyncio

import pytest

from surge.net.streams import EMPTY_PAYLOAD, StreamReader


class Flow:
    def __init__(self) -> None:
        self.events: list[str] = []

    def pause_reading(self) -> None:
        self.events.append("pause")

    def resume_reading(self) -> None:
        self.events.append("resume")


def fed(*chunks: bytes, eof: bool = True, limit: int = 2**16) -> StreamReader:
    stream = StreamReader(Flow(), limit)
    for chunk in chunks:
        stream.feed_data(chunk)
    if eof:
        stream.feed_eof()
    return stream


async def test_read_all_and_partial() -> None:
    stream = fed(b"hello ", b"world")
    assert await stream.read(3) == b"hel"
    assert await stream.read(100) == b"lo world"  # returns what is there, never waits for more
    assert await stream.read() == b""
    assert stream.at_eof()
    assert await fed(b"ab", b"cd").read() == b"abcd"
    assert await fed(b"x").read(0) == b""


async def test_read_waits_for_data() -> None:
    stream = fed(eof=False)
    task = asyncio.ensure_future(stream.read())
    await asyncio.sleep(0)
    assert not task.done()
    stream.feed_data(b"late")
    await asyncio.sleep(0)
    assert not task.done()  # read() without n waits for EOF
    stream.feed_eof()
    assert await task == b"late"


async def test_readany_and_read_nowait() -> None:
    stream = fed(b"one", b"two", eof=False)
    assert await stream.readany() == b"onetwo"
    assert stream.read_nowait() == b""
    stream.feed_data(b"abc")
    assert stream.read_nowait(2) == b"ab"
    assert stream.read_nowait() == b"c"
    stream.feed_eof()
    assert await stream.readany() == b""


async def test_readexactly_and_incomplete() -> None:
    stream = fed(b"12", b"345", b"6")
    assert await stream.readexactly(4) == b"1234"
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await stream.readexactly(5)
    assert info.value.partial == b"56"
    assert info.value.expected == 5


async def test_readline_and_limits() -> None:
    stream = fed(b"first\nsec", b"ond\n", b"tail")
    assert await stream.readline() == b"first\n"
    assert await stream.readline() == b"second\n"
    assert await stream.readline() == b"tail"  # EOF without newline: the partial line
    assert await stream.readline() == b""
    long = fed(b"x" * 100 + b"\n")
    with pytest.raises(ValueError, match="Chunk too big"):
        await long.readline(max_line_length=10)
    unbounded = fed(b"y" * 50, eof=False, limit=8)  # default limit: 2 * limit bytes
    with pytest.raises(ValueError):
        await unbounded.readline()


async def test_readuntil_separator() -> None:
    stream = fed(b"a--b--", b"c")
    assert await stream.readuntil(b"--") == b"a--"
    assert await stream.readuntil(b"--") == b"b--"
    assert await stream.readuntil(b"--") == b"c"
    with pytest.raises(ValueError):
        await stream.readuntil(b"")


async def test_iterators() -> None:
    assert [c async for c in fed(b"abcdefg").iter_chunked(3)] == [b"abc", b"def", b"g"]
    assert [c async for c in fed(b"l1\nl2\n", b"l3")] == [b"l1\n", b"l2\n", b"l3"]
    any_chunks = [c async for c in fed(b"ab", b"cd").iter_any()]
    assert b"".join(any_chunks) == b"abcd"


async def test_http_chunk_boundaries() -> None:
    stream = StreamReader(Flow(), 2**16)
    for part in (b"abc", b"defg"):
        stream.begin_http_chunk_receiving()
        stream.feed_data(part)
        stream.end_http_chunk_receiving()
    stream.feed_eof()
    assert await stream.readchunk() == (b"abc", True)
    assert await stream.readchunk() == (b"defg", True)
    assert await stream.readchunk() == (b"", False)
    plain = fed(b"xy", b"z")
    assert [c async for c in plain.iter_chunks()] == [(b"xyz", False)]


async def test_exception_reaches_readers() -> None:
    stream = fed(eof=False)
    task = asyncio.ensure_future(stream.read(10))
    await asyncio.sleep(0)
    stream.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await task
    assert isinstance(stream.exception(), ConnectionResetError)
    for method in (stream.readany, stream.readline, lambda: stream.readexactly(1)):
        with pytest.raises(ConnectionResetError):
            await method()


async def test_eof_state_and_callbacks() -> None:
    stream = fed(b"x", eof=False)
    calls: list[str] = []
    stream.on_eof(lambda: calls.append("eof"))
    assert not stream.is_eof()
    waiter = asyncio.ensure_future(stream.wait_eof())
    await asyncio.sleep(0)
    assert not waiter.done()
    stream.feed_eof()
    await waiter
    assert calls == ["eof"]
    assert stream.is_eof() and not stream.at_eof()  # a byte is still buffered
    assert await stream.read() == b"x"
    assert stream.at_eof()
    stream.on_eof(lambda: calls.append("late"))  # after EOF: called at once
    assert calls == ["eof", "late"]
    with pytest.raises(RuntimeError):
        stream.feed_data(b"more")
    assert EMPTY_PAYLOAD.at_eof()
    assert await EMPTY_PAYLOAD.read() == b""


async def test_flow_control_pauses_and_resumes() -> None:
    flow = Flow()
    stream = StreamReader(flow, limit=10)
    assert stream.get_read_buffer_limits() == (10, 20)
    stream.feed_data(b"x" * 15)
    assert flow.events == []
    stream.feed_data(b"x" * 10)  # 25 > high water 20
    assert flow.events == ["pause"]
    stream.feed_data(b"x" * 10)
    assert flow.events == ["pause"]  # paused once, not per chunk
    assert await stream.read(20) == b"x" * 20  # 15 left: still above low water 10
    assert flow.events == ["pause"]
    assert await stream.read(6) == b"x" * 6
    assert flow.events == ["pause", "resume"]
    assert stream.total_bytes == 35


async def test_unread_data_goes_first() -> None:
    stream = fed(b"world")
    stream.unread_data(b"hello ")
    assert await stream.read() == b"hello world"
