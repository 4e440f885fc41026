"""The sans-IO WebSocket core: two peers wired to each other in memory."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import pytest

from surge.http.ws.connection import ConnectionState, WSConnection
from surge.http.ws.deflate import DeflateParams, client_accept, client_offer, server_accept
from surge.http.ws.errors import WSHandshakeError, WSProtocolError
from surge.http.ws.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    FrameReader,
    apply_mask,
    encode_frame,
    mask_range,
    mask_range_python,
)
from surge.http.ws.handshake import accept_key, check_client_response, check_server_request
from surge.http.ws.models import WSMsgType


def pair(deflate: bool = False, max_size: int = 4 * 2**20) -> tuple[WSConnection, WSConnection]:
    params = DeflateParams() if deflate else None
    client = WSConnection(client=True, max_size=max_size, deflate=params)
    server = WSConnection(client=False, max_size=max_size, deflate=params)
    return client, server


def raw_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked (client) frame with arbitrary header bits."""
    frame = bytearray(encode_frame(opcode, payload, fin=fin, mask=True))
    frame[0] |= rsv << 4
    return bytes(frame)


def test_mask_roundtrip_and_offsets() -> None:
    key = b"\x01\x02\x03\x04"
    data = os.urandom(1001)
    masked = apply_mask(data, key)
    assert masked != data
    assert apply_mask(masked, key) == data
    # Masking in two pieces at any split gives the same bytes as masking at once.
    for split in (1, 2, 3, 4, 5, 500):
        assert apply_mask(data[:split], key) + apply_mask(data[split:], key, split) == masked
    expected = bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert masked == expected


def test_c_mask_matches_the_python_fallback() -> None:
    # websockets is a dev dependency, so its C mask must be the one in use here.
    from websockets.speedups import apply_mask as c_mask

    from surge.http.ws import frames

    assert frames.C_MASK and mask_range is not mask_range_python
    key = b"\x9a\x01\xfe\x37"
    buf = bytearray(os.urandom(9000))
    # Lengths on both sides of every internal threshold, at every key offset and alignment.
    for length in (0, 1, 3, 4, 5, 125, 511, 512, 513, 4095, 4096, 4097, 8000):
        for start in (0, 1, 2, 3, 7):
            stop = start + length
            for offset in range(5):
                want = mask_range_python(buf, start, stop, key, offset)
                assert mask_range(buf, start, stop, key, offset) == want
                assert mask_range(bytes(buf), start, stop, key, offset) == want
                assert apply_mask(memoryview(buf)[start:stop], key, offset) == want
            expected = bytes(b ^ key[i % 4] for i, b in enumerate(buf[start:stop]))
            assert mask_range_python(buf, start, stop, key) == expected
            assert c_mask(bytes(buf[start:stop]), key) == expected
    # A long range read in place leaves the bytearray resizable.
    mask_range(buf, 0, 8000, key)
    del buf[:10]
    assert len(buf) == 8990


_FALLBACK_SCRIPT = """
import os, sys
sys.modules["websockets.speedups"] = None  # as if the C extension were not installed
from surge.http.ws import frames
from surge.http.ws.connection import WSConnection
assert not frames.C_MASK and frames.mask_range is frames.mask_range_python
client, server = WSConnection(client=True), WSConnection(client=False)
for size in (0, 5, 600, 70000, 300000):
    payload = os.urandom(size)
    wire = client.send_message(payload, text=False)
    # Fed in odd pieces: chunks start at every offset into the mask key.
    msgs = []
    for i in range(0, len(wire), 4099):
        msgs += server.receive_data(wire[i : i + 4099])
    assert [m.data for m in msgs] == [payload], size
    [echo] = client.receive_data(server.send_message(payload, text=False))
    assert echo.data == payload
print("fallback ok")
"""


def test_pure_python_mask_fallback_round_trips() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FALLBACK_SCRIPT],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "fallback ok"


def test_text_and_binary_both_directions() -> None:
    client, server = pair()
    [msg] = server.receive_data(client.send_message("héllo ✓".encode(), text=True))
    assert (msg.type, msg.data) == (WSMsgType.TEXT, "héllo ✓")
    [msg] = client.receive_data(server.send_message(b"\x00\xff" * 40000, text=False))
    assert (msg.type, msg.data) == (WSMsgType.BINARY, b"\x00\xff" * 40000)


def test_frames_split_at_every_byte() -> None:
    client, server = pair()
    wire = client.send_message("fragmenté".encode() * 30, text=True)
    wire += client.send_ping(b"p")
    got = []
    for i in range(len(wire)):
        got += server.receive_data(wire[i : i + 1])
    assert [m.type for m in got] == [WSMsgType.TEXT, WSMsgType.PING]
    assert got[0].data == "fragmenté" * 30
    assert got[1].data == b"p"


def test_fragmented_message_with_interleaved_ping() -> None:
    server = WSConnection(client=False)
    wire = (
        raw_frame(OP_TEXT, b"ab", fin=False)
        + raw_frame(OP_PING, b"x")
        + raw_frame(OP_CONTINUATION, "ç".encode()[:1], fin=False)
        + raw_frame(OP_CONTINUATION, "ç".encode()[1:])
    )
    msgs = server.receive_data(wire)
    assert [(m.type, m.data) for m in msgs] == [(WSMsgType.PING, b"x"), (WSMsgType.TEXT, "abç")]


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (raw_frame(OP_CONTINUATION, b"x"), 1002),  # nothing to continue
        (raw_frame(OP_TEXT, b"a", fin=False) + raw_frame(OP_BINARY, b"b"), 1002),
        (raw_frame(OP_PING, b"x", fin=False), 1002),  # fragmented control frame
        (raw_frame(OP_PING, b"x" * 126), 1002),  # control frame over 125 bytes
        (raw_frame(3, b""), 1002),  # reserved opcode
        (raw_frame(OP_TEXT, b"a", rsv=4), 1002),  # RSV1 without an extension
        (raw_frame(OP_TEXT, b"a", rsv=2), 1002),
        (encode_frame(OP_TEXT, b"unmasked"), 1002),  # a client must mask
        (raw_frame(OP_TEXT, b"\xce\xba\xff"), 1007),
        (raw_frame(OP_TEXT, b"\xed\xa0\x80"), 1007),  # a surrogate is not UTF-8
        (raw_frame(OP_CLOSE, b"\x03"), 1002),  # 1-byte close payload
        (raw_frame(OP_CLOSE, (1005).to_bytes(2, "big")), 1002),
        (raw_frame(OP_CLOSE, (1016).to_bytes(2, "big")), 1002),
        (raw_frame(OP_CLOSE, (999).to_bytes(2, "big")), 1002),
        (raw_frame(OP_CLOSE, (2999).to_bytes(2, "big")), 1002),
        (raw_frame(OP_CLOSE, (1000).to_bytes(2, "big") + b"\xff"), 1007),
    ],
)
def test_protocol_errors_carry_their_close_code(wire: bytes, code: int) -> None:
    server = WSConnection(client=False)
    with pytest.raises(WSProtocolError) as info:
        server.receive_data(wire)
    assert info.value.code == code
    assert server.state is ConnectionState.FAILED


def test_client_refuses_masked_frames() -> None:
    client = WSConnection(client=True)
    with pytest.raises(WSProtocolError) as info:
        client.receive_data(raw_frame(OP_TEXT, b"masked"))
    assert info.value.code == 1002


def test_invalid_utf8_fails_on_the_first_bad_byte_mid_frame() -> None:
    server = WSConnection(client=False)
    wire = raw_frame(OP_TEXT, b"valid " + b"\xf4\x90\x80\x80" + b"x" * 1000)
    # Only the header and the first bad bytes have arrived: already an error.
    with pytest.raises(WSProtocolError) as info:
        server.receive_data(wire[:20])
    assert info.value.code == 1007


def test_messages_before_a_fault_are_kept() -> None:
    server = WSConnection(client=False)
    with pytest.raises(WSProtocolError) as info:
        server.receive_data(raw_frame(OP_TEXT, b"first") + raw_frame(OP_TEXT, b"x", rsv=2))
    assert [m.data for m in info.value.messages] == ["first"]


def test_declared_oversize_frame_fails_before_its_payload() -> None:
    reader_side = WSConnection(client=False, max_size=1024)
    # A header declaring 1 GiB (64-bit length) plus the mask key, and no payload at all.
    head = bytes([0x82, 0xFF]) + (2**30).to_bytes(8, "big") + b"abcd"
    with pytest.raises(WSProtocolError) as info:
        reader_side.receive_data(head)
    assert info.value.code == 1009


def test_fragmented_message_over_the_limit() -> None:
    server = WSConnection(client=False, max_size=10)
    wire = raw_frame(OP_BINARY, b"x" * 6, fin=False) + raw_frame(OP_CONTINUATION, b"y" * 6)
    with pytest.raises(WSProtocolError) as info:
        server.receive_data(wire)
    assert info.value.code == 1009


def test_close_handshake_states() -> None:
    client, server = pair()
    [msg] = server.receive_data(client.send_close(1001, "bye"))
    assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 1001, "bye")
    assert client.state is ConnectionState.CLOSE_SENT
    assert server.state is ConnectionState.CLOSE_RECEIVED
    [msg] = client.receive_data(server.send_close(1001))
    assert client.state is ConnectionState.CLOSED
    assert server.state is ConnectionState.CLOSED
    assert msg.data == 1001


def test_empty_close_reports_1005() -> None:
    client, server = pair()
    [msg] = server.receive_data(client.send_close(None))
    assert msg.data == 1005


def test_deflate_roundtrip_with_context_takeover() -> None:
    client, server = pair(deflate=True)
    text = "compress me " * 1000
    wire1 = client.send_message(text.encode(), text=True)
    wire2 = client.send_message(text.encode(), text=True)
    assert len(wire1) < len(text) // 10
    assert len(wire2) < len(wire1)  # the second message reuses the first's context
    assert wire1[0] & 0x40  # RSV1 marks a compressed message
    msgs = server.receive_data(wire1 + wire2)
    assert [m.data for m in msgs] == [text, text]
    [msg] = client.receive_data(server.send_message(b"", text=False))
    assert msg.data == b""


def test_deflate_bomb_is_bounded_by_max_size() -> None:
    params = DeflateParams()
    server = WSConnection(client=False, max_size=1 << 20, deflate=params)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = comp.compress(b"\x00" * (50 << 20)) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 100_000
    with pytest.raises(WSProtocolError) as info:
        server.receive_data(raw_frame(OP_BINARY, bomb[:-4], rsv=4))
    assert info.value.code == 1009


def test_frame_reader_hands_out_partial_payloads() -> None:
    reader = FrameReader(masked=False)
    frame = encode_frame(OP_BINARY, b"a" * 1000)
    first = reader.feed(frame[:500])
    rest = reader.feed(frame[500:])
    assert first[0].first and not first[0].last and first[0].length == 1000
    assert b"".join(c.data for c in first + rest) == b"a" * 1000
    assert rest[-1].last


def test_handshake_accept_key_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def _request_headers(**extra: str) -> dict[str, str]:
    headers = {
        "Upgrade": "websocket",
        "Connection": "keep-alive, Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    headers.update(extra)
    return headers


def test_server_handshake_negotiates_protocol_and_deflate() -> None:
    hs = check_server_request(
        "GET",
        _request_headers(
            **{
                "Sec-WebSocket-Protocol": "chat, superchat",
                "Sec-WebSocket-Extensions": "permessage-deflate; server_max_window_bits=8, "
                "permessage-deflate; client_max_window_bits; server_no_context_takeover",
            }
        ),
        protocols=("superchat", "chat"),
    )
    headers = dict(hs.headers)
    assert hs.protocol == "superchat"
    assert headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    # The first offer limits us to 8 bits, which zlib cannot honour: the second is taken.
    assert headers["Sec-WebSocket-Extensions"] == ("permessage-deflate; server_no_context_takeover")
    assert hs.deflate is not None and hs.deflate.local_no_context_takeover


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("POST", _request_headers(), 405),
        ("GET", _request_headers(Upgrade="h2c"), 400),
        ("GET", _request_headers(Connection="keep-alive"), 400),
        ("GET", _request_headers(**{"Sec-WebSocket-Version": "8"}), 426),
        ("GET", _request_headers(**{"Sec-WebSocket-Key": "short"}), 400),
    ],
)
def test_server_handshake_refusals(method: str, headers: dict[str, str], status: int) -> None:
    with pytest.raises(WSHandshakeError) as info:
        check_server_request(method, headers)
    assert info.value.status == status


def test_client_handshake_checks() -> None:
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    good = {"Upgrade": "websocket", "Connection": "upgrade"}
    good["Sec-WebSocket-Accept"] = accept_key(key)
    assert check_client_response(101, good, key=key).protocol is None
    with pytest.raises(WSHandshakeError):
        check_client_response(200, good, key=key)
    with pytest.raises(WSHandshakeError):
        check_client_response(101, {**good, "Sec-WebSocket-Accept": "wrong"}, key=key)
    with pytest.raises(WSHandshakeError):
        check_client_response(101, {**good, "Sec-WebSocket-Protocol": "x"}, key=key)


def test_deflate_negotiation_both_sides() -> None:
    accepted = server_accept(client_offer())
    assert accepted is not None
    value, server_params = accepted
    client_params = client_accept(value)
    assert client_params.local_max_window_bits == server_params.remote_max_window_bits
    with pytest.raises(WSHandshakeError):
        client_accept("permessage-deflate; bogus=1")
    assert server_accept("permessage-deflate; server_max_window_bits=20") is None


def test_decode_text_false_keeps_validated_bytes() -> None:
    for deflate in (False, True):
        params = DeflateParams() if deflate else None
        client = WSConnection(client=True, deflate=params)
        server = WSConnection(client=False, deflate=params, decode_text=False)
        [msg] = server.receive_data(client.send_message("ümlaut".encode(), text=True))
        assert (msg.type, msg.data) == (WSMsgType.TEXT, "ümlaut".encode())
    server = WSConnection(client=False, decode_text=False)
    # Fragmented: assembled as bytes; a multi-byte character split across frames is fine.
    wire = raw_frame(OP_TEXT, b"a\xc3", fin=False) + raw_frame(OP_CONTINUATION, b"\xa9z")
    [msg] = server.receive_data(wire)
    assert (msg.type, msg.data) == (WSMsgType.TEXT, "aéz".encode())
    # Invalid UTF-8 fails at once, in a whole frame and mid-fragment alike.
    with pytest.raises(WSProtocolError) as info:
        WSConnection(client=False, decode_text=False).receive_data(raw_frame(OP_TEXT, b"\xff"))
    assert info.value.code == 1007
    with pytest.raises(WSProtocolError) as info:
        WSConnection(client=False, decode_text=False).receive_data(
            raw_frame(OP_TEXT, b"ok\xff", fin=False)
        )
    assert info.value.code == 1007
