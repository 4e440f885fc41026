"""The sans-IO SSE encoder and WHATWG parser."""

from __future__ import annotations

import pytest

from surge.http.sse import (
    ServerSentEvent,
    SSELineTooLong,
    SSEParser,
    encode_comment,
    encode_event,
)


def parse(*chunks: bytes, **kwargs: object) -> list[ServerSentEvent]:
    parser = SSEParser(**kwargs)  # type: ignore[arg-type]
    out: list[ServerSentEvent] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


def test_encode_multiline_data_and_fields() -> None:
    wire = encode_event("a\nb\r\nc\rd", event="update", id="7", retry=1500)
    assert wire == b"event: update\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
    assert parse(wire) == [ServerSentEvent("a\nb\nc\nd", "update", "7", 1500)]


@pytest.mark.parametrize(
    "kwargs", [{"event": "a\nb"}, {"id": "1\r"}, {"id": "x\x00"}, {"event": "\r"}]
)
def test_encode_refuses_line_breaks_in_fields(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        encode_event("x", **kwargs)  # type: ignore[arg-type]


def test_comment_encoding_is_ignored_by_the_parser() -> None:
    assert encode_comment("ping") == b": ping\n\n"
    assert parse(encode_comment("two\nlines") + b"data: x\n\n") == [ServerSentEvent("x")]


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    wire = b"data: one" + eol + b"data: two" + eol + eol + b"data: three" + eol + eol
    assert [e.data for e in parse(wire)] == ["one\ntwo", "three"]


def test_crlf_split_between_reads_is_one_line_end() -> None:
    events = parse(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n")
    assert [e.data for e in events] == ["a\nb"]


def test_byte_by_byte_with_utf8_and_bom() -> None:
    wire = "\ufeffdata: héllo ✓\n\n".encode()
    events = parse(*(wire[i : i + 1] for i in range(len(wire))))
    assert events == [ServerSentEvent("héllo ✓")]


def test_whatwg_field_rules() -> None:
    wire = (
        b": a comment\n"
        b"data\n"  # no colon: field name only, empty value
        b"data:no-space\n"
        b"data:  two spaces\n"
        b"unknown: ignored\n"
        b"id: 42\n"
        b"retry: soon\n"  # not digits: ignored
        b"event: tick\n"
        b"\n"
        b"event: lonely\n"
        b"\n"  # no data: not dispatched, event type reset
        b"data: after\n"
        b"id: bad\x00id\n"  # NUL: the id is ignored
        b"\n"
        b"id\n"  # empty id resets the last event id
        b"data: reset\n\n"
        b"data: unfinished"  # no blank line before EOF: dropped
    )
    parser = SSEParser()
    events = parser.feed(wire)
    assert events == [
        ServerSentEvent("\nno-space\n two spaces", "tick", "42", None),
        ServerSentEvent("after", "message", "42", None),
        ServerSentEvent("reset", "message", "", None),
    ]
    assert parser.retry is None


def test_retry_and_last_event_id_seed() -> None:
    parser = SSEParser(last_event_id="9")
    [event] = parser.feed(b"retry: 250\ndata: x\n\n")
    assert event == ServerSentEvent("x", "message", "9", 250)
    assert parser.retry == 250


def test_line_limit() -> None:
    with pytest.raises(SSELineTooLong):
        parse(b"data: " + b"x" * 100, max_line_size=50)
    with pytest.raises(SSELineTooLong):
        parse(b"data: " + b"x" * 100 + b"\n\n", max_line_size=50)
    assert parse(b"data: " + b"x" * 40 + b"\n\n", max_line_size=50)[0].data == "x" * 40
