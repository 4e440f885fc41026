"""The sans-IO HTTP/2 core against an h2 client peer, wired together in memory."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
from h2.settings import SettingCodes

from surge.http.h2.connection import H2ServerConnection, request_head
from surge.http.h2.events import (
    RequestData,
    RequestEnded,
    RequestReceived,
    StreamWritable,
)
from surge.http.h2.settings import H2Limits, TokenBucket
from surge.http.h2.upgrade import PREFACE, h2c_settings, sniff


def pair(limits: H2Limits | None = None) -> tuple[h2.connection.H2Connection, H2ServerConnection]:
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    server = H2ServerConnection(limits)
    server.initiate()
    client.initiate_connection()
    server.receive_data(client.data_to_send(), 0.0)
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send(), 0.0)  # SETTINGS ACK
    return client, server


HEADERS = [
    (b":method", b"POST"),
    (b":path", b"/a?b=1"),
    (b":scheme", b"http"),
    (b":authority", b"example.com:8080"),
    (b"content-length", b"5"),
]


def test_request_head_maps_pseudo_headers() -> None:
    client, server = pair()
    client.send_headers(1, HEADERS)
    client.send_data(1, b"hello", end_stream=True)
    events = server.receive_data(client.data_to_send(), 0.0)
    assert [type(e) for e in events] == [RequestReceived, RequestData, RequestEnded]
    head = events[0].head  # type: ignore[union-attr]
    assert (head.method, head.target, head.version) == ("POST", "/a?b=1", (2, 0))
    assert (b"host", b"example.com:8080") in head.headers
    assert head.content_length == 5 and head.has_body and not head.chunked
    assert events[1].data == b"hello"  # type: ignore[union-attr]


def test_request_head_rejects_connection_headers_and_bad_length() -> None:
    assert request_head([*HEADERS[:4], (b"content-length", b"x")], False) is None
    assert request_head([*HEADERS[:4], (b"connection", b"close")], True) is None
    head = request_head(HEADERS[:4], False)
    assert head is not None and head.chunked and head.content_length is None
    head = request_head(HEADERS[:4], True)
    assert head is not None and not head.has_body


def test_response_data_waits_for_window() -> None:
    client, server = pair()
    client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 10})
    client.send_headers(
        1, [(k, v) for k, v in HEADERS[:4]] + [(b"content-length", b"0")], end_stream=True
    )
    server.receive_data(client.data_to_send(), 0.0)
    server.send_headers(1, [(b":status", b"200")])
    assert server.send_data(1, b"x" * 25, end_stream=True) == 15
    received = client.receive_data(server.data_to_send())
    data = b"".join(e.data for e in received if isinstance(e, h2.events.DataReceived))
    assert data == b"x" * 10
    client.increment_flow_control_window(100, stream_id=1)
    events = server.receive_data(client.data_to_send(), 1.0)
    assert any(isinstance(e, StreamWritable) for e in events)
    assert server.buffered(1) == 0
    received = client.receive_data(server.data_to_send())
    data = b"".join(e.data for e in received if isinstance(e, h2.events.DataReceived))
    assert data == b"x" * 15
    assert any(isinstance(e, h2.events.StreamEnded) for e in received)


def test_sniff_and_h2c_settings() -> None:
    assert sniff(PREFACE + b"rest") == "h2"
    assert sniff(PREFACE[:5]) is None
    assert sniff(b"GET / HTTP/1.1\r\n") == "h1"
    assert sniff(b"PRX") == "h1"
    asked = [
        (b"Connection", b"Upgrade, HTTP2-Settings"),
        (b"Upgrade", b"h2c"),
        (b"HTTP2-Settings", b"AAMAAABkAARAAAAAAAIAAAAA"),
    ]
    assert h2c_settings(asked) == b"AAMAAABkAARAAAAAAAIAAAAA"
    assert h2c_settings(asked[1:]) is None  # HTTP2-Settings not named in Connection
    assert h2c_settings([asked[0], (b"Upgrade", b"websocket"), asked[2]]) is None


def test_token_bucket() -> None:
    bucket = TokenBucket(3, 10.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.1)  # one token back after 1/10 s
    assert not bucket.take(0.1)
