"""The sans-IO response parser: scripted bytes in, events out."""

from __future__ import annotations

import pytest

from surge.http.errors import BadStatusLine, HeadersTooLarge, PayloadError
from surge.http.h1.response_parser import H1ResponseParser, ResponseHead


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.heads: list[ResponseHead] = []

    def on_response(self, head: ResponseHead) -> None:
        self.heads.append(head)
        self.events.append(("head", head.status))

    def on_body(self, data: bytes) -> None:
        self.events.append(("body", data))

    def on_response_complete(self) -> None:
        self.events.append(("done", None))


def test_content_length_response_split_anywhere() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"
    for cut in range(1, len(raw)):
        sink = Sink()
        parser = H1ResponseParser(sink)
        parser.feed(raw[:cut])
        parser.feed(raw[cut:])
        assert sink.events[0] == ("head", 200)
        assert b"".join(d for k, d in sink.events if k == "body") == b"hello"  # type: ignore[misc]
        assert sink.events[-1] == ("done", None)
        head = sink.heads[0]
        assert head.reason == "OK" and head.keep_alive and head.content_length == 5
        assert head.headers == [(b"Content-Length", b"5"), (b"X-A", b"b")]


def test_two_responses_in_a_row_and_informational_skipped() -> None:
    sink = Sink()
    parser = H1ResponseParser(sink)
    parser.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx")
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n")
    assert parser.informational == 1
    assert sink.events == [
        ("head", 201),
        ("body", b"x"),
        ("done", None),
        ("head", 200),
        ("body", b"ab"),
        ("done", None),
    ]


def test_head_request_has_no_body_despite_content_length() -> None:
    sink = Sink()
    parser = H1ResponseParser(sink, head_request=True)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    assert sink.events == [("head", 200), ("done", None)]
    parser.head_request = False
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert sink.events[-2:] == [("body", b"ok"), ("done", None)]


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    sink = Sink()
    parser = H1ResponseParser(sink)
    parser.feed(f"HTTP/1.1 {status} X\r\nContent-Length: 9\r\n\r\n".encode())
    assert sink.events == [("head", status), ("done", None)]
    assert sink.heads[0].keep_alive


def test_body_until_eof() -> None:
    sink = Sink()
    parser = H1ResponseParser(sink)
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\nabc")
    assert not sink.heads[0].keep_alive
    assert parser.feed_eof() is True
    assert sink.events == [("head", 200), ("body", b"abc"), ("done", None)]


def test_truncated_content_length_body() -> None:
    parser = H1ResponseParser(Sink())
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(PayloadError, match="expected 10 bytes"):
        parser.feed_eof()


def test_truncated_chunked_body() -> None:
    parser = H1ResponseParser(Sink())
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
    with pytest.raises(PayloadError, match="chunked"):
        parser.feed_eof()


def test_eof_in_head() -> None:
    parser = H1ResponseParser(Sink())
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-")
    with pytest.raises(BadStatusLine):
        parser.feed_eof()


def test_bad_status_line() -> None:
    with pytest.raises(BadStatusLine):
        H1ResponseParser(Sink()).feed(b"HTTX/1.1 200 OK\r\n\r\n")


def test_bad_chunk_size() -> None:
    parser = H1ResponseParser(Sink())
    with pytest.raises(PayloadError):
        parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")


def test_oversize_header_field() -> None:
    parser = H1ResponseParser(Sink(), max_field_size=100)
    with pytest.raises(HeadersTooLarge):
        parser.feed(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200 + b"\r\n\r\n")


def test_too_many_headers() -> None:
    parser = H1ResponseParser(Sink(), max_headers=3)
    with pytest.raises(HeadersTooLarge):
        parser.feed(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 4 + b"\r\n")


def test_unfinished_head_is_bounded() -> None:
    parser = H1ResponseParser(Sink(), max_line_size=100, max_field_size=100, max_headers=2)
    with pytest.raises(HeadersTooLarge):
        for _ in range(100):
            parser.feed(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 50)


def test_read_until_eof_false_means_an_unframed_body_is_empty() -> None:
    sink = Sink()
    parser = H1ResponseParser(sink, read_until_eof=False)
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\nignored")
    assert sink.events == [("head", 200), ("done", None)]
    assert not sink.heads[0].keep_alive
