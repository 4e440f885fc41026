"""Request heads from a header list the connection has seen before (parsed once per list):
each request still gets its own head, right for whether its stream ends with the head."""

from __future__ import annotations

from surge.http.h2.events import RequestReceived
from tests.h2.test_core import pair

GET = [
    (b":method", b"GET"),
    (b":path", b"/p?q=1"),
    (b":scheme", b"http"),
    (b":authority", b"example.com"),
    (b"accept", b"*/*"),
]


def _heads(end_streams: list[bool]) -> list[RequestReceived]:
    client, server = pair()
    events = []
    for end in end_streams:
        client.send_headers(client.get_next_available_stream_id(), GET, end_stream=end)
        events += server.receive_data(client.data_to_send(), 0.0)
    received = [e for e in events if isinstance(e, RequestReceived)]
    assert len(received) == len(end_streams)
    return received


def test_repeated_list_gives_fresh_heads() -> None:
    first, second, third = (event.head for event in _heads([True, True, True]))
    assert first is not second and first.headers is not second.headers
    for head in (first, second, third):
        assert (head.method, head.target, head.version) == ("GET", "/p?q=1", (2, 0))
        assert head.headers == [(b"host", b"example.com"), (b"accept", b"*/*")]
        assert (head.chunked, head.content_length) == (False, 0)
    first.headers.append((b"x-mine", b"1"))  # a head's owner may change it
    first.method = "POST"
    assert third.headers == [(b"host", b"example.com"), (b"accept", b"*/*")]
    assert third.method == "GET"


def test_same_list_with_and_without_a_body() -> None:
    ended, open_, ended_again = (event.head for event in _heads([True, False, True]))
    assert (ended.chunked, ended.content_length) == (False, 0)
    assert (open_.chunked, open_.content_length) == (True, None)  # a body of unknown length
    assert (ended_again.chunked, ended_again.content_length) == (False, 0)
