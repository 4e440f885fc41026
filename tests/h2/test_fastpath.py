"""The lean response path (``http/h2/fastpath.py``) writes what h2 would: an h2 client reads
the frames back, and the server's h2 state (stream state, windows, HPACK table) stays in step,
so later frames, rare paths and further requests keep working."""

from __future__ import annotations

import h2.connection
import h2.events
import pytest
from h2.settings import SettingCodes
from h2.stream import StreamState
from hyperframe.frame import ContinuationFrame, DataFrame, HeadersFrame

from surge.http.h2.connection import H2ServerConnection
from surge.http.h2.fastpath import send_response
from tests.h2.helpers import parse_frames
from tests.h2.test_core import HEADERS, pair

GET = [*HEADERS[:4]]


def _request(
    client: h2.connection.H2Connection, server: H2ServerConnection, end: bool = True
) -> int:
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, [(b":method", b"GET"), *GET[1:]], end_stream=end)
    server.receive_data(client.data_to_send(), 0.0)
    return sid


def _answer(client: h2.connection.H2Connection, data: bytes) -> list[h2.events.Event]:
    return client.receive_data(data)


@pytest.mark.parametrize(
    ("body", "frames", "closed"),
    [
        (b"hello", [HeadersFrame, DataFrame], True),
        (b"", [HeadersFrame], True),
        (None, [HeadersFrame], False),  # a streamed response: the head alone
    ],
)
def test_common_responses_match_h2(body: bytes | None, frames: list[type], closed: bool) -> None:
    client, server = pair()
    conn = server._conn
    window = conn.outbound_flow_control_window
    for _ in range(3):  # repeated heads: the HPACK dynamic table must stay in step
        sid = _request(client, server)
        head = [(b":status", b"200"), (b"content-type", b"text/plain"), (b"x-n", b"1")]
        assert send_response(conn, sid, head, body)
        data = server.data_to_send()
        assert [type(f) for f in parse_frames(data)] == frames
        events = _answer(client, data)
        received = next(e for e in events if isinstance(e, h2.events.ResponseReceived))
        assert received.headers == head
        got = b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived))
        assert got == (body or b"")
        assert any(isinstance(e, h2.events.StreamEnded) for e in events) is closed
        stream = conn.streams[sid]
        assert (stream.state_machine.state is StreamState.CLOSED) is closed
        assert stream.state_machine.headers_sent
    assert conn.outbound_flow_control_window == window - 3 * len(body or b"")
    if body is None:  # the streamed body goes on through h2 and ends the stream
        server.send_data(sid, b"tail", end_stream=True)
        events = _answer(client, server.data_to_send())
        assert [type(e) for e in events] == [h2.events.DataReceived, h2.events.StreamEnded]


def test_large_head_goes_out_in_continuation_frames() -> None:
    client, server = pair()
    sid = _request(client, server)
    head = [(b":status", b"200"), *[(f"x-h{i}".encode(), b"v" * 900) for i in range(40)]]
    assert send_response(server._conn, sid, head, b"ok")
    data = server.data_to_send()
    kinds = [type(f) for f in parse_frames(data)]
    assert kinds[0] is HeadersFrame and ContinuationFrame in kinds and kinds[-1] is DataFrame
    events = _answer(client, data)
    received = next(e for e in events if isinstance(e, h2.events.ResponseReceived))
    assert received.headers == head


def test_uncommon_cases_are_left_to_h2() -> None:
    client, server = pair()
    conn = server._conn
    ok = [(b":status", b"200")]
    open_sid = _request(client, server, end=False)  # request body still coming: OPEN
    assert not send_response(conn, open_sid, ok, b"x")
    sid = _request(client, server)
    assert not send_response(conn, sid, [(b":status", b"100")], None)  # informational
    too_big = b"x" * (conn.max_outbound_frame_size + 1)
    assert not send_response(conn, sid, ok, too_big)
    assert send_response(conn, sid, ok, None)
    assert not send_response(conn, sid, ok, b"again")  # the head is already out
    assert not send_response(conn, 99, ok, b"")  # no such stream
    assert server.data_to_send()  # only the one accepted head went out


def test_small_window_falls_back_and_the_core_buffers() -> None:
    client, server = pair()
    client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 3})
    server.receive_data(client.data_to_send(), 0.0)
    client.receive_data(server.data_to_send())
    sid = _request(client, server)
    assert server.send_response(sid, [(b":status", b"200")], b"hello") == 2
    events = _answer(client, server.data_to_send())
    assert b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived)) == b"hel"
