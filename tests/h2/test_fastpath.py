"""The lean response path (``http/h2/fastpath.py``) writes what h2 would: an h2 client reads
the frames back, and the server's h2 state (stream state, windows, HPACK table) stays in step,
so later frames, rare paths and further requests keep working."""

from __future__ import annotations

import functools

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest
from h2.settings import SettingCodes
from h2.stream import StreamState
from hyperframe.frame import ContinuationFrame, DataFrame, HeadersFrame

from surge.http.h2.connection import H2ServerConnection
from surge.http.h2.fastpath import receive, send_response
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


# the lean receive path: the same events as h2 itself, whatever the byte boundaries ---------


def _server_conn() -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=False
        )
    )
    conn.initiate_connection()
    conn.data_to_send()
    return conn


def _client_bytes() -> bytes:
    """A mixed conversation: lean GETs, a POST with a body, a head split into CONTINUATION
    frames, split cookies, a PING, a reset and a WINDOW_UPDATE."""
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    client.initiate_connection()
    get = [(b":method", b"GET"), *GET[1:]]
    for _ in range(5):
        client.send_headers(client.get_next_available_stream_id(), get, end_stream=True)
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, HEADERS)
    client.send_data(sid, b"hello", end_stream=True)
    client.send_headers(
        client.get_next_available_stream_id(),
        [*get, (b"cookie", b"a=1"), (b"cookie", b"b=2")],
        end_stream=True,
    )
    client.max_outbound_frame_size = 100  # this head goes out as HEADERS + CONTINUATIONs
    big = [*get, *[(f"x-{i}".encode(), b"y" * 60) for i in range(5)]]
    client.send_headers(client.get_next_available_stream_id(), big, end_stream=True)
    client.max_outbound_frame_size = 16384
    client.ping(b"12345678")
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, get, end_stream=True)
    client.reset_stream(sid)
    client.increment_flow_control_window(1000)
    for _ in range(3):
        client.send_headers(client.get_next_available_stream_id(), get, end_stream=True)
    return client.data_to_send()


@pytest.mark.parametrize("step", [1, 7, 64, 1000, 1_000_000])
def test_lean_receive_matches_h2_event_for_event(step: int) -> None:
    data = _client_bytes()
    lean, plain = _server_conn(), _server_conn()
    lean_events: list[h2.events.Event] = []
    plain_events: list[h2.events.Event] = []
    for start in range(0, len(data), step):
        piece = data[start : start + step]
        lean_events += receive(lean, piece)
        plain_events += plain.receive_data(piece)
    assert [repr(e) for e in lean_events] == [repr(e) for e in plain_events]
    assert sum(isinstance(e, h2.events.RequestReceived) for e in lean_events) == 12
    assert lean.data_to_send() == plain.data_to_send()  # PING ACK, nothing else
    for sid, stream in plain.streams.items():
        mine = lean.streams[sid].state_machine
        theirs = stream.state_machine
        assert (mine.state, mine.stream_closed_by, mine.headers_received, mine.client) == (
            theirs.state,
            theirs.stream_closed_by,
            theirs.headers_received,
            theirs.client,
        )
    assert lean.highest_inbound_stream_id == plain.highest_inbound_stream_id


def test_lean_receive_refuses_what_h2_refuses() -> None:
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    client.initiate_connection()
    preface = client.data_to_send()
    client.send_headers(3, [(b":method", b"GET"), *GET[1:]], end_stream=True)
    frame = client.data_to_send()  # one HEADERS frame on stream 3
    assert frame[3] == 0x1 and frame[5:9] == (3).to_bytes(4, "big")
    lower = frame[:5] + (1).to_bytes(4, "big") + frame[9:]  # a stream id going backwards
    for lean in (True, False):
        conn = _server_conn()
        feed = functools.partial(receive, conn) if lean else conn.receive_data
        events = feed(preface + frame)
        assert isinstance(events[-1], h2.events.StreamEnded)
        with pytest.raises(h2.exceptions.ProtocolError):
            feed(lower)
