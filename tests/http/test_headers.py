"""Structured header helpers."""

from __future__ import annotations

from surge.http.headers import parse_mimetype_params, raw_header


def test_raw_header_finds_the_first_value_case_insensitively() -> None:
    pairs = [(b"Host", b"x"), (b"Content-ENCODING", b"gzip"), (b"content-encoding", b"br")]
    assert raw_header(pairs, b"content-encoding") == "gzip"
    assert raw_header(pairs, b"accept-encoding") is None
    assert raw_header([(b"X-Long-Name-16ch", b"v")], b"content-encoding") is None


def test_mimetype_params() -> None:
    assert parse_mimetype_params('text/HTML; charset="UTF-8"; q=1') == (
        "text/html",
        {"charset": "utf-8", "q": "1"},
    )
