"""The sans-IO HTTP/1 request parser: events for valid input, HttpProtocolError otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surge.http.errors import BadRequest, HeadersTooLarge, HttpProtocolError, UriTooLong
from surge.http.h1.parser import H1RequestParser, RequestHead


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def on_request(self, head: RequestHead) -> None:
        self.events.append(("head", head))

    def on_body(self, data: bytes) -> None:
        self.events.append(("body", data))

    def on_request_complete(self) -> None:
        self.events.append(("end", None))


def parse(*parts: bytes) -> Sink:
    sink = Sink()
    parser = H1RequestParser(sink)
    for part in parts:
        parser.feed(part)
    return sink


def test_head_fields_and_body_split_anywhere() -> None:
    raw = b"POST /p?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"
    for cut in range(1, len(raw)):
        sink = parse(raw[:cut], raw[cut:])
        head = sink.events[0][1]
        assert isinstance(head, RequestHead)
        assert (head.method, head.target, head.version) == ("POST", "/p?q=1", (1, 1))
        assert head.headers == [(b"Host", b"h"), (b"Content-Length", b"5"), (b"X-A", b"b")]
        assert head.content_length == 5
        assert b"".join(d for k, d in sink.events if k == "body") == b"hello"  # type: ignore[misc]
        assert sink.events[-1] == ("end", None)


def test_chunked_body_is_decoded_and_trailers_not_merged() -> None:
    sink = parse(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\nContent-Type: evil\r\n\r\n"
    )
    head = sink.events[0][1]
    assert isinstance(head, RequestHead)
    assert head.chunked
    assert [name for name, _ in head.headers] == [b"Host", b"Transfer-Encoding"]
    assert ("body", b"abc") in sink.events


def test_pipelined_requests_in_one_feed() -> None:
    sink = parse(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
    heads = [h for k, h in sink.events if k == "head"]
    assert [(h.target, h.version, h.keep_alive) for h in heads] == [  # type: ignore[attr-defined]
        ("/a", (1, 1), True),
        ("/b", (1, 0), False),
    ]


def test_unfinished_long_request_line_is_bounded() -> None:
    """Bytes of a head that never ends are not buffered without limit."""
    sink = Sink()
    parser = H1RequestParser(sink)
    parser.feed(b"GET /")
    with pytest.raises(UriTooLong):
        for _ in range(100):
            parser.feed(b"a" * 1000)


def test_unfinished_header_value_is_bounded() -> None:
    parser = H1RequestParser(Sink())
    parser.feed(b"GET / HTTP/1.1\r\nX-Slow: ")
    with pytest.raises(HeadersTooLarge):
        for _ in range(100):
            parser.feed(b"a" * 1000)


VALID = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    b"PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n0\r\nT: v\r\n\r\n",
    b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET /w HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nXYZ",
]


def feed_all(chunks: list[bytes]) -> None:
    """Feed ``chunks``; only events or an HttpProtocolError may come out."""
    parser = H1RequestParser(Sink(), max_line_size=512, max_field_size=512, max_headers=16)
    try:
        for chunk in chunks:
            if parser.feed(chunk) is not None:
                return  # upgraded: the rest is another protocol's
    except HttpProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_arbitrary_bytes_never_raise_anything_else(chunks: list[bytes]) -> None:
    feed_all(chunks)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 200), st.binary(max_size=4)), max_size=4),
    st.integers(1, 64),
)
def test_mutated_requests_never_raise_anything_else(
    base: bytes, edits: list[tuple[int, bytes]], step: int
) -> None:
    data = bytearray(base * 2)
    for pos, replacement in edits:
        pos %= len(data) + 1
        data[pos : pos + len(replacement)] = replacement
    raw = bytes(data)
    feed_all([raw[i : i + step] for i in range(0, len(raw), step)])


def test_pipelined_burst_ending_in_a_partial_head_is_not_oversize() -> None:
    """Hundreds of small pipelined requests in one read, the last one unfinished: the bytes of
    the finished requests never count against the unfinished head's size bound."""
    heads: list[RequestHead] = []

    class Sink:
        def on_request(self, head: RequestHead) -> None:
            heads.append(head)

        def on_body(self, data: bytes) -> None:
            pass

        def on_request_complete(self) -> None:
            pass

    parser = H1RequestParser(Sink())
    one = b"GET /x HTTP/1.1\r\nHost: a\r\nUser-Agent: test-client/1.0\r\n\r\n"
    assert parser.feed(one * 300 + b"GET /partial HTTP/1.1\r\nHost: a\r\n") is None
    assert len(heads) == 300
    assert parser.feed(b"\r\n") is None
    assert [h.target for h in heads[-2:]] == ["/x", "/partial"]


def _versions(*parts: bytes) -> list[tuple[int, int]]:
    return [head.version for kind, head in parse(*parts).events if isinstance(head, RequestHead)]


def test_version_is_right_wherever_the_request_line_falls() -> None:
    # The parser reads "HTTP/1.1" off a request line that starts its feed; every other
    # position (pipelined, split, after stray CRLFs, after a body) must give the same answer.
    one_zero = b"GET /a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"
    one_one = b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
    with_body = b"POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
    stream = one_zero + one_one + with_body + one_zero + b"\r\n" + one_one + one_zero
    expected = [(1, 0), (1, 1), (1, 1), (1, 0), (1, 1), (1, 0)]
    assert _versions(stream) == expected
    for cut in range(1, len(stream)):
        assert _versions(stream[:cut], stream[cut:]) == expected, cut
    assert _versions(*(bytes([b]) for b in stream)) == expected


def test_no_completion_event_for_a_request_without_body() -> None:
    sink = parse(
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
    )
    assert [kind for kind, _ in sink.events] == ["head", "head", "body", "end"]


def test_trailer_fields_are_bounded_and_do_not_leak_into_the_next_head() -> None:
    chunked = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
    sink = parse(chunked + b"Host: t\r\nX-T: 1\r\n\r\nGET /n HTTP/1.1\r\nHost: h\r\n\r\n")
    heads = [head for kind, head in sink.events if isinstance(head, RequestHead)]
    assert [h.target for h in heads] == ["/", "/n"]
    assert heads[1].headers == [(b"Host", b"h")]
    many = b"".join(b"X-%d: v\r\n" % i for i in range(200))
    with pytest.raises(HeadersTooLarge):
        parse(chunked + many + b"\r\n")


def test_field_count_is_bounded_across_reads_in_head_and_trailers() -> None:
    sink = Sink()
    parser = H1RequestParser(sink)
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n")
    with pytest.raises(HeadersTooLarge):
        for i in range(200):
            parser.feed(b"X-%d: v\r\n" % i)
    sink = Sink()
    parser = H1RequestParser(sink)
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n")
    with pytest.raises(HeadersTooLarge):
        for i in range(200):
            parser.feed(b"T-%d: v\r\n" % i)
    assert [kind for kind, _ in sink.events] == ["head", "body"]


# Lean and full parsing ---------------------------------------------------------------------
# A request whole in one feed is read off the bytes (the lean parser); a head split across
# feeds or a chunked request goes through llhttp's per-field callbacks (the full parser).
# Both must give the same events, wherever the feeds are cut.

_FIELD_NAMES = [b"Host", b"host", b"X-A", b"Accept", b"content-type", b"X-Long-Name-Here"]
_VALUES = [b"v", b"", b"a b", b"  lead", b"trail \t", b"\t both \t", b"x:y:z", b"\x80\xff"]


@st.composite
def _requests(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"OPTIONS"]))
    target = draw(st.sampled_from([b"/", b"/a/b?c=d", b"*", b"http://h:1/p", b"/%41"]))
    version = draw(st.sampled_from([b"1.1", b"1.0"]))
    gaps = draw(st.sampled_from([(b" ", b" "), (b"  ", b" "), (b" ", b"   ")]))
    fields = draw(
        st.lists(st.tuples(st.sampled_from(_FIELD_NAMES), st.sampled_from(_VALUES)), max_size=5)
    )
    if sum(1 for name, _ in fields if name.lower() == b"host") > 1:
        fields = [(n, v) for n, v in fields if n.lower() != b"host"]
    head = method + gaps[0] + target + gaps[1] + b"HTTP/" + version + b"\r\n"
    if version == b"1.0":  # else llhttp refuses any request after this one
        head += b"Connection: keep-alive\r\n"
    head += b"".join(
        name + b":" + draw(st.sampled_from([b" ", b""])) + value + b"\r\n" for name, value in fields
    )
    body_kind = draw(st.sampled_from(["none", "length", "empty-length", "chunked"]))
    if version == b"1.0" and body_kind == "chunked":
        body_kind = "length"
    body = draw(st.binary(min_size=1, max_size=20))
    if body_kind == "length":
        head += b"Content-Length: %d\r\n" % len(body)
    elif body_kind == "empty-length":
        head += b"content-length:0 \r\n"
        body = b""
    elif body_kind == "chunked":
        head += b"Transfer-Encoding: chunked\r\n"
        body = b"%x;ext=1\r\n%b\r\n0\r\nTrailer: t\r\n\r\n" % (len(body), body)
    else:
        body = b""
    stray = draw(st.sampled_from([b"", b"", b"\r\n"]))
    return stray + head + b"\r\n" + body


def _outcome(chunks: list[bytes]) -> tuple[list[tuple[str, object]], str | None]:
    """Events up to the first fault or upgrade, heads as tuples and body chunks joined (a
    body may be cut anywhere), and the fault's class (None if there was none)."""
    sink = Sink()
    parser = H1RequestParser(sink)
    fault = None
    try:
        for chunk in chunks:
            if parser.feed(chunk) is not None:
                break
    except HttpProtocolError as exc:
        fault = type(exc).__name__
    events: list[tuple[str, object]] = []
    for kind, item in sink.events:
        if isinstance(item, RequestHead):
            item = (
                item.method,
                item.target,
                item.version,
                item.headers,
                item.keep_alive,
                item.upgrade,
                item.chunked,
                item.content_length,
                item.expect,
            )
        elif kind == "body" and events and events[-1][0] == "body":
            events[-1] = ("body", events[-1][1] + item)  # type: ignore[operator]
            continue
        events.append((kind, item))
    return events, fault


def _events(chunks: list[bytes]) -> list[tuple[str, object]]:
    events, fault = _outcome(chunks)
    assert fault is None
    return events


@settings(max_examples=300, deadline=None)
@given(st.lists(_requests(), min_size=1, max_size=4), st.data())
def test_whole_and_split_feeds_give_the_same_events(
    requests: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(requests)
    byte_by_byte = _events([stream[i : i + 1] for i in range(len(stream))])
    assert _events([stream]) == byte_by_byte
    cuts = sorted(data.draw(st.lists(st.integers(1, len(stream) - 1), max_size=4)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert _events(pieces) == byte_by_byte
    heads = [item for kind, item in byte_by_byte if kind == "head"]
    assert len(heads) == len(requests)
    for head in heads:  # values never keep their surrounding whitespace
        assert all(v == v.strip(b" \t") for _, v in head[3])  # type: ignore[index]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", UriTooLong),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", HeadersTooLarge),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 129 + b"\r\n", HeadersTooLarge),
        (b"GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", BadRequest),
        (b"GET / HTTP/2.0\r\n\r\n", BadRequest),
        (b"GET / HTTP/0.9\r\n\r\n", BadRequest),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", HeadersTooLarge),
        (b"GET / HTTP/1.7\r\n\r\n", BadRequest),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", BadRequest),
    ],
)
def test_faults_found_whole_or_split(raw: bytes, error: type[HttpProtocolError]) -> None:
    with pytest.raises(error):
        parse(raw)
    with pytest.raises(error):
        parse(*(raw[i : i + 7] for i in range(0, len(raw), 7)))
    # After a valid request in the same feed: the fault is still found, the first answered.
    sink = Sink()
    with pytest.raises(error):
        H1RequestParser(sink).feed(b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\n" + raw)
    assert [kind for kind, _ in sink.events] == ["head"]


def test_field_limits_hold_exactly_in_both_modes() -> None:
    at_limit = b"GET / HTTP/1.1\r\nX: " + b"a" * 8189 + b"\r\n" + b"Y: z\r\n" * 127 + b"\r\n"
    heads = [h for k, h in parse(at_limit).events if isinstance(h, RequestHead)]
    assert len(heads) == 1 and len(heads[0].headers) == 128
    split = [at_limit[i : i + 1000] for i in range(0, len(at_limit), 1000)]
    heads = [h for k, h in parse(*split).events if isinstance(h, RequestHead)]
    assert len(heads) == 1 and heads[0].headers[0] == (b"X", b"a" * 8189)


def test_upgrade_offset_after_a_chunked_request_in_the_same_feed() -> None:
    chunked = (
        b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
    )
    upgrade = b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    sink = Sink()
    parser = H1RequestParser(sink)
    data = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n" + chunked + upgrade + b"FRAMES"
    offset = parser.feed(data)
    assert offset is not None and data[offset:] == b"FRAMES"
    heads = [h for k, h in sink.events if isinstance(h, RequestHead)]
    assert [(h.target, h.upgrade) for h in heads] == [("/", False), ("/c", False), ("/ws", True)]


def test_lean_parsing_resumes_after_a_chunked_request() -> None:
    sink = Sink()
    parser = H1RequestParser(sink)
    parser.feed(b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
    parser.feed(b"0\r\n\r\n")
    parser.feed(b"GET /n HTTP/1.1\r\nHost: h\r\n\r\n")
    heads = [h for k, h in sink.events if isinstance(h, RequestHead)]
    assert [h.target for h in heads] == ["/c", "/n"]
    assert heads[1]._fields is None  # read off the bytes: fields split only when asked
    assert heads[1].headers == [(b"Host", b"h")]


def test_less_common_methods_keep_their_names() -> None:
    sink = parse(b"PROPFIND /d HTTP/1.1\r\nHost: h\r\n\r\nPROPFIND /e HTTP/1.1\r\nHost: h\r\n\r\n")
    heads = [h for k, h in sink.events if isinstance(h, RequestHead)]
    assert [h.method for h in heads] == ["PROPFIND", "PROPFIND"]
    assert heads[0].method is heads[1].method


def test_one_field_found_alike_in_raw_and_split_heads() -> None:
    raw = (
        b"GET / HTTP/1.1\r\nHost: h\r\nACCEPT-Encoding:  gzip, br \t\r\n"
        b"accept-encoding: zstd\r\nX-Accept-Encoding: no\r\n\r\n"
    )
    whole = next(h for k, h in parse(raw).events if isinstance(h, RequestHead))
    split = next(
        h
        for k, h in parse(*(raw[i : i + 5] for i in range(0, len(raw), 5))).events
        if isinstance(h, RequestHead)
    )
    assert whole._fields is None and split._fields is not None
    for head in (whole, split):
        assert head.field(b"accept-encoding") == "gzip, br"
        assert head.field(b"host") == "h"
        assert head.field(b"content-encoding") is None


def test_a_lowered_field_count_applies_to_the_next_head() -> None:
    parser = H1RequestParser(Sink())
    parser.max_headers = 2
    with pytest.raises(HeadersTooLarge):
        parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_requests(), min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 400), st.binary(max_size=3)), min_size=1, max_size=3),
)
def test_damaged_streams_are_judged_alike_whole_or_split(
    requests: list[bytes], edits: list[tuple[int, bytes]]
) -> None:
    """Whatever the lean parser accepts or refuses, the full parser does too: the same heads
    before the fault, and the same kind of fault."""
    data = bytearray(b"".join(requests))
    for pos, replacement in edits:
        pos %= len(data) + 1
        data[pos : pos + len(replacement)] = replacement
    stream = bytes(data)
    whole = _outcome([stream])
    split = _outcome([stream[i : i + 1] for i in range(len(stream))])
    assert whole[1] == split[1]
    heads_whole = [e for e in whole[0] if e[0] == "head"]
    heads_split = [e for e in split[0] if e[0] == "head"]
    assert heads_whole == heads_split
