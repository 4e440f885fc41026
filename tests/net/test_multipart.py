"""Multipart: the sans-IO boundary scanner and part heads, and the streaming readers."""

from __future__ import annotations

import base64

import httpx
import pytest

from surge.http.content.multipart import (
    BoundaryScanner,
    MultipartError,
    get_boundary,
    parse_content_disposition,
    parse_part_headers,
)
from surge.net.multipart import BodyPartReader, MultipartReader
from surge.net.streams import StreamReader


def stream_of(body: bytes, step: int = 7) -> StreamReader:
    stream = StreamReader(None, 2**16)
    for i in range(0, len(body), step):  # small pieces: boundaries straddle feeds
        stream.feed_data(body[i : i + step])
    stream.feed_eof()
    return stream


def encoded(**kwargs: object) -> tuple[dict[str, str], bytes]:
    request = httpx.Request("POST", "http://x/", **kwargs)  # type: ignore[arg-type]
    return {"Content-Type": request.headers["Content-Type"]}, request.read()


def test_scanner_holds_back_possible_delimiter() -> None:
    scanner = BoundaryScanner(b"XYZ")
    assert scanner.feed(b"abc\r\n--X") == (b"abc", False, b"")
    assert scanner.held == b"\r\n--X"
    assert scanner.feed(b"Q") == (b"\r\n--XQ", False, b"")  # not the delimiter after all
    assert scanner.feed(b"more\r") == (b"more", False, b"")
    assert scanner.feed(b"\n--XYZ--\r\n") == (b"", True, b"--\r\n")


def test_boundary_and_headers_and_disposition() -> None:
    assert get_boundary('multipart/form-data; boundary="a b"') == b"a b"
    with pytest.raises(MultipartError):
        get_boundary("multipart/form-data")
    with pytest.raises(MultipartError):
        get_boundary("text/plain; boundary=x")
    headers = parse_part_headers([b"Content-Disposition: form-data; name=x", b"X-A:  1 "])
    assert headers["content-disposition"] == "form-data; name=x" and headers["x-a"] == "1"
    with pytest.raises(MultipartError):
        parse_part_headers([b"no colon here"])
    kind, params = parse_content_disposition(
        'form-data; name="f;1"; filename="a \\"b\\".txt"; filename*=UTF-8\'\'%E2%82%AC.txt'
    )
    assert kind == "form-data"
    assert params == {"name": "f;1", "filename": 'a "b".txt', "filename*": "€.txt"}


async def test_reader_walks_fields_and_files() -> None:
    headers, body = encoded(
        data={"user": "ann", "tag": ["a", "b"]},
        files={"upload": ("r.bin", b"\r\n--not-a-boundary\r\n" * 50, "application/x-thing")},
    )
    reader = MultipartReader(headers, stream_of(body))
    seen = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        seen.append((part.name, part.filename, part.headers.get("Content-Type"), await part.read()))
    assert seen == [
        ("user", None, None, b"ann"),
        ("tag", None, None, b"a"),
        ("tag", None, None, b"b"),
        ("upload", "r.bin", "application/x-thing", b"\r\n--not-a-boundary\r\n" * 50),
    ]
    assert reader.at_eof()
    assert await reader.next() is None


async def test_unread_parts_are_skipped_and_chunks_stream() -> None:
    headers, body = encoded(data={"a": "1", "b": "2", "c": "3"}, files={"z": ("z", b"")})
    reader = MultipartReader(headers, stream_of(body, step=3))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.read_chunk(1) == b"1" and await first.read_chunk() == b""
    assert first.at_eof()
    await reader.next()  # "b" never read: released by the next call
    third = await reader.next()
    assert isinstance(third, BodyPartReader)
    assert (third.name, await third.text()) == ("c", "3")


BOUNDARY_BODY = (
    b"preamble to ignore\r\n"
    b"--outer\r\n"
    b'Content-Disposition: form-data; name="meta"\r\n'
    b"Content-Type: application/json; charset=utf-8\r\n\r\n"
    b'{"k": [1, 2]}\r\n'
    b"--outer\r\n"
    b'Content-Disposition: form-data; name="files"\r\n'
    b"Content-Type: multipart/mixed; boundary=inner\r\n\r\n"
    b"--inner\r\n"
    b'Content-Disposition: file; filename="a.txt"\r\n\r\n'
    b"AAA\r\n"
    b"--inner\r\n"
    b'Content-Disposition: file; filename="b.txt"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"BBB") + b"\r\n--inner--\r\n"
    b"\r\n--outer\r\n"
    b'Content-Disposition: form-data; name="form"\r\n'
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    b"x=1&y=%C3%A9\r\n"
    b"--outer--\r\nepilogue"
)


async def test_nested_multipart_json_form_and_decoding() -> None:
    reader = MultipartReader(
        {"Content-Type": "multipart/related; boundary=outer"}, stream_of(BOUNDARY_BODY)
    )
    meta = await reader.next()
    assert isinstance(meta, BodyPartReader)
    assert await meta.json() == {"k": [1, 2]}
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    files = [
        (p.filename, await p.read(decode=True))
        async for p in nested
        if isinstance(p, BodyPartReader)
    ]
    assert files == [("a.txt", b"AAA"), ("b.txt", b"BBB")]
    form = await reader.next()
    assert isinstance(form, BodyPartReader)
    assert await form.form() == [("x", "1"), ("y", "é")]
    assert await reader.next() is None


async def test_nested_reader_released_without_reading() -> None:
    reader = MultipartReader(
        {"Content-Type": "multipart/related; boundary=outer"}, stream_of(BOUNDARY_BODY)
    )
    names = []
    async for part in reader:
        names.append(part.headers.get("Content-Disposition", "").split('name="')[1].rstrip('"'))
    assert names == ["meta", "files", "form"]


async def test_truncated_and_malformed_bodies_raise() -> None:
    cut = BOUNDARY_BODY[:120]
    reader = MultipartReader(
        {"Content-Type": "multipart/form-data; boundary=outer"}, stream_of(cut)
    )
    with pytest.raises(MultipartError):
        async for part in reader:
            await part.read() if isinstance(part, BodyPartReader) else None
    no_boundary = MultipartReader(
        {"Content-Type": "multipart/form-data; boundary=zz"}, stream_of(b"hello\r\n")
    )
    with pytest.raises(MultipartError):
        await no_boundary.next()
    bad_tail = b"--b\r\n\r\nx\r\n--bJUNK\r\n"
    reader = MultipartReader(
        {"Content-Type": "multipart/form-data; boundary=b"}, stream_of(bad_tail)
    )
    first = await reader.next()
    assert first is not None
    with pytest.raises(MultipartError):
        await reader.next()


async def test_readline_within_a_part() -> None:
    body = b"--b\r\n\r\nline1\nline2\r\n--b--\r\n"
    reader = MultipartReader(
        {"Content-Type": "multipart/mixed; boundary=b"}, stream_of(body, step=2)
    )
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.readline() == b"line1\n"
    assert await part.readline() == b"line2"
    assert await part.readline() == b""
    assert part.at_eof()
