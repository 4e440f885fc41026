"""Streams made by the lean request path match h2's own, and a stream the server is done with
leaves h2's table at once, remembered as closed the way h2's own prune remembers it."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
from h2.errors import ErrorCodes
from h2.settings import SettingCodes, Settings
from h2.stream import StreamClosedBy, StreamState

from surge.http.h2.events import RequestReceived, StreamReset
from surge.http.h2.fastpath import receive
from tests.h2.test_core import pair

GET = [(b":method", b"GET"), (b":path", b"/"), (b":scheme", b"http"), (b":authority", b"a")]


def _server(initial_window: int) -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=False
        )
    )
    conn.local_settings = Settings(
        client=False, initial_values={SettingCodes.INITIAL_WINDOW_SIZE: initial_window}
    )
    conn.initiate_connection()
    conn.data_to_send()
    return conn


def test_lean_streams_have_h2s_windows_and_frame_size() -> None:
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    client.local_settings = Settings(
        client=True,
        initial_values={
            SettingCodes.INITIAL_WINDOW_SIZE: 12345,
            SettingCodes.MAX_FRAME_SIZE: 20000,
        },
    )
    client.initiate_connection()
    preface = client.data_to_send()
    for _ in range(3):
        client.send_headers(client.get_next_available_stream_id(), GET, end_stream=True)
    data = client.data_to_send()
    lean, plain = _server(54321), _server(54321)
    receive(lean, preface)
    plain.receive_data(preface)
    assert lean.incoming_buffer._preamble_len == 0  # the HEADERS take the lean path
    assert len(receive(lean, data)) == len(plain.receive_data(data)) == 6
    assert sorted(lean.streams) == sorted(plain.streams) == [1, 3, 5]
    for sid, theirs in plain.streams.items():
        mine = lean.streams[sid]
        assert mine.outbound_flow_control_window == theirs.outbound_flow_control_window == 12345
        assert mine.inbound_flow_control_window == theirs.inbound_flow_control_window == 54321
        assert mine.max_outbound_frame_size == theirs.max_outbound_frame_size == 20000
        assert mine.config is lean.config
    assert lean.highest_inbound_stream_id == plain.highest_inbound_stream_id == 5


def test_released_stream_leaves_h2s_table_and_later_frames_are_harmless() -> None:
    client, server = pair()
    conn = server._conn
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, GET, end_stream=True)
    events = server.receive_data(client.data_to_send(), 0.0)
    assert [type(e) for e in events] == [RequestReceived]
    server.send_response(sid, [(b":status", b"200")], b"hi")
    assert conn.streams[sid].state_machine.state is StreamState.CLOSED
    server.release(sid)
    assert sid not in conn.streams
    assert conn._closed_streams[sid] is StreamClosedBy.SEND_END_STREAM
    got = client.receive_data(server.data_to_send())
    assert any(isinstance(e, h2.events.StreamEnded) for e in got)
    # The peer still sends a WINDOW_UPDATE and a reset for it: no error, no event, no GOAWAY.
    client.increment_flow_control_window(100, stream_id=None)
    client._get_stream_by_id(sid).state_machine.state = StreamState.HALF_CLOSED_LOCAL
    client.reset_stream(sid, ErrorCodes.CANCEL)
    events = server.receive_data(client.data_to_send(), 0.0)
    assert not any(isinstance(e, StreamReset) for e in events)
    assert not server.closed
    # And the connection goes on.
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, GET, end_stream=True)
    assert [type(e) for e in server.receive_data(client.data_to_send(), 0.0)] == [RequestReceived]


def test_a_stream_still_open_stays_in_h2s_table() -> None:
    client, server = pair()
    sid = client.get_next_available_stream_id()
    client.send_headers(sid, GET, end_stream=True)
    server.receive_data(client.data_to_send(), 0.0)
    server.send_response(sid, [(b":status", b"200")], None)  # a streamed body, not ended
    server.release(sid)
    assert server._conn.streams[sid].state_machine.state is StreamState.HALF_CLOSED_REMOTE


def test_closed_streams_remembered_within_h2s_bound() -> None:
    client, server = pair()
    closed = server._conn._closed_streams
    closed._size_limit = 2  # type: ignore[attr-defined]
    sids = []
    for _ in range(4):
        sid = client.get_next_available_stream_id()
        client.send_headers(sid, GET, end_stream=True)
        server.receive_data(client.data_to_send(), 0.0)
        server.send_response(sid, [(b":status", b"204")], b"")
        server.release(sid)
        sids.append(sid)
    assert list(closed) == sids[-2:]  # the oldest forgotten first, as h2 does
