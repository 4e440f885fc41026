"""RFC 6455 framing: frame headers, masking, and an incremental frame reader.

Invariants:
- Masking runs in C when ``websockets.speedups`` is importable (the optional ``speedups``
  extra); otherwise in pure Python without a per-byte loop (a big-integer XOR for short
  payloads, four strided ``bytes.translate`` calls for long ones). Both give identical bytes.
- The reader never buffers a data frame's payload: whatever payload bytes have arrived are
  handed out (unmasked) as a chunk, so a frame's declared length alone never costs memory and a
  caller can refuse an oversize frame as soon as its header is read.
- Control frames (<= 125 bytes by the RFC) are handed out whole.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

from surge.http.ws.errors import WSProtocolError

__all__ = [
    "C_MASK",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "VIEW_FROM",
    "FrameChunk",
    "FrameReader",
    "apply_mask",
    "encode_frame",
    "frame_header",
    "mask_range",
    "mask_range_python",
    "mask_short",
    "masked_header",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_DATA_OPS = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY))
_CONTROL_OPS = frozenset((OP_CLOSE, OP_PING, OP_PONG))
_PROTOCOL_ERROR = 1002

_pack_short = struct.Struct("!BBH").pack
_pack_long = struct.Struct("!BBQ").pack
_unpack_short = struct.Struct("!H").unpack_from
_unpack_long = struct.Struct("!Q").unpack_from


# XOR tables for masking by translation: _XOR[k] maps each byte b to b ^ k.
_XOR = [bytes(b ^ k for b in range(256)) for k in range(256)]
# Below this size one big-integer XOR is cheaper; above it four strided translations are
# (measured with callgrind: they cost about 25 instructions per byte against 40).
_TRANSLATE_FROM = 512
# Below this size the C mask gets a copied slice: cheaper than a memoryview and its slice.
VIEW_FROM = 4096

try:
    from websockets.speedups import apply_mask as _c_mask

    C_MASK = True
except ImportError:  # the pure-Python path below serves
    C_MASK = False


def apply_mask(data: bytes | bytearray | memoryview, key: bytes, offset: int = 0) -> bytes:
    """XOR ``data`` with the 4-byte ``key``; ``offset`` is data's position in the payload."""
    if C_MASK:
        if offset & 3:
            shift = offset & 3
            key = key[shift:] + key[:shift]
        return _c_mask(data, key)
    if type(data) is memoryview:
        data = bytes(data)
    return mask_range_python(data, 0, len(data), key, offset)


def mask_range_python(
    buf: bytes | bytearray, start: int, stop: int, key: bytes, offset: int = 0
) -> bytes:
    """:func:`mask_range` in pure Python: the fallback without ``websockets.speedups``."""
    n = stop - start
    if n <= 0:
        return b""
    shift = offset & 3
    if shift:
        key = key[shift:] + key[:shift]
    if n < _TRANSLATE_FROM:
        pad = (key * ((n >> 2) + 1))[:n]
        return (int.from_bytes(buf[start:stop], "little") ^ int.from_bytes(pad, "little")).to_bytes(
            n, "little"
        )
    out = bytearray(n)
    out[0::4] = buf[start:stop:4].translate(_XOR[key[0]])
    out[1::4] = buf[start + 1 : stop : 4].translate(_XOR[key[1]])
    out[2::4] = buf[start + 2 : stop : 4].translate(_XOR[key[2]])
    out[3::4] = buf[start + 3 : stop : 4].translate(_XOR[key[3]])
    return bytes(out)


def _mask_range_c(
    buf: bytes | bytearray, start: int, stop: int, key: bytes, offset: int = 0
) -> bytes:
    """:func:`mask_range` by ``websockets.speedups``; a long range is read in place."""
    if offset & 3:
        shift = offset & 3
        key = key[shift:] + key[:shift]
    if stop - start < VIEW_FROM:
        return _c_mask(buf[start:stop], key)
    # Released at once: a bytearray with a live view could not be resized afterwards.
    with memoryview(buf) as view:
        return _c_mask(view[start:stop], key)


#: ``buf[start:stop]`` XORed with ``key`` (``offset``: the range's position in the payload),
#: without first copying a long range out of ``buf``.
mask_range = _mask_range_c if C_MASK else mask_range_python


def _mask_short_python(data: bytes, key: bytes) -> bytes:
    return mask_range_python(data, 0, len(data), key)


#: ``data`` XORed with ``key``: the C function itself when there is one (no Python call in
#: between, for short payloads already sliced out of the buffer).
mask_short = _c_mask if C_MASK else _mask_short_python


def frame_header(opcode: int, length: int, *, fin: bool = True, rsv1: bool = False) -> bytes:
    """The header of an unmasked frame (server side) carrying ``length`` payload bytes."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        return bytes((b0, length))
    if length < 65536:
        return _pack_short(b0, 126, length)
    return _pack_long(b0, 127, length)


def masked_header(
    opcode: int, length: int, key: bytes, *, fin: bool = True, rsv1: bool = False
) -> bytes:
    """The header of a masked frame (client side), ending with the masking ``key``."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        return bytes((b0, 0x80 | length)) + key
    if length < 65536:
        return _pack_short(b0, 0xFE, length) + key
    return _pack_long(b0, 0xFF, length) + key


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False, mask: bool = False
) -> bytes:
    """A whole frame; clients ``mask`` with a fresh random key (RFC 6455 section 5.3)."""
    if not mask:
        return frame_header(opcode, len(payload), fin=fin, rsv1=rsv1) + payload
    key = os.urandom(4)
    return masked_header(opcode, len(payload), key, fin=fin, rsv1=rsv1) + apply_mask(payload, key)


class FrameChunk(NamedTuple):
    """Part (or all) of one frame's payload, unmasked.

    ``first`` marks a frame's first chunk (handed out as soon as the header is read, even
    with no payload yet, so the declared ``length`` can be checked at once); ``offset`` is where
    ``data`` starts in the payload; ``last`` marks the frame's final chunk.
    """

    fin: bool
    rsv1: bool
    opcode: int
    length: int
    first: bool
    data: bytes
    last: bool


class FrameReader:
    """Turns received bytes into :class:`FrameChunk` s; raises :class:`WSProtocolError`.

    ``masked`` says what the peer must do: a server requires masked frames, a client
    requires unmasked ones. ``allow_rsv1`` is true only with a negotiated extension.
    """

    __slots__ = (
        "_allow_rsv1",
        "_buf",
        "_error",
        "_fin",
        "_first",
        "_key",
        "_length",
        "_masked",
        "_offset",
        "_opcode",
        "_rsv1",
    )

    def __init__(self, *, masked: bool, allow_rsv1: bool = False) -> None:
        self._masked = masked
        self._allow_rsv1 = allow_rsv1
        self._buf = bytearray()
        # The frame whose payload is being read, if any (``_length`` < 0 when between frames).
        self._length = -1
        self._offset = 0
        self._first = False
        self._fin = True
        self._rsv1 = False
        self._opcode = 0
        self._key = b""
        self._error: WSProtocolError | None = None

    def raise_pending(self) -> None:
        """Raise the fault found after the chunks the last :meth:`feed` returned."""
        if self._error is not None:
            raise self._error

    @property
    def idle(self) -> bool:
        """Between frames with nothing buffered: the next byte starts a frame header."""
        return self._length < 0 and not self._buf and self._error is None

    def feed(self, data: bytes, start: int = 0) -> list[FrameChunk]:
        """Chunks completed by ``data[start:]``."""
        if self._error is not None:
            raise self._error
        buf = self._buf
        if buf:
            buf += data[start:] if start else data
            view: bytes | bytearray = buf
            pos = 0
        else:
            view = data
            pos = start
        out: list[FrameChunk] = []
        end = len(view)
        while True:
            if self._length < 0:
                try:
                    used = self._read_header(view, pos, end)
                except WSProtocolError as exc:
                    if not out:
                        raise
                    # Frames before the fault are handed out first; raise_pending reports it.
                    self._error = exc
                    pos = end
                    break
                if not used:
                    break
                pos += used
                if self._opcode in _CONTROL_OPS and end - pos < self._length:
                    # Control frames are short: wait for the whole payload.
                    pos -= used
                    self._length = -1
                    break
            length = self._length
            offset = self._offset
            take = min(length - offset, end - pos)
            first = self._first
            if take <= 0 and length and not first:
                break
            if self._masked:
                piece = mask_range(view, pos, pos + take, self._key, offset)
            else:
                piece = view[pos : pos + take]  # type: ignore[assignment]
                if type(piece) is not bytes:
                    piece = bytes(piece)
            pos += take
            offset += take
            last = offset == length
            self._first = False
            out.append(FrameChunk(self._fin, self._rsv1, self._opcode, length, first, piece, last))
            if last:
                self._length = -1
                self._offset = 0
            else:
                self._offset = offset
                break
        if pos == end:
            if buf:
                buf.clear()
        elif buf:
            del buf[:pos]
        else:
            buf += view[pos:]
        return out

    def _read_header(self, view: bytes | bytearray, pos: int, end: int) -> int:
        """Parse a frame header at ``pos``; 0 when it is incomplete."""
        if end - pos < 2:
            return 0
        b0 = view[pos]
        b1 = view[pos + 1]
        fin = bool(b0 & 0x80)
        rsv1 = bool(b0 & 0x40)
        opcode = b0 & 0x0F
        masked = bool(b1 & 0x80)
        length = b1 & 0x7F
        if b0 & 0x30:
            raise WSProtocolError(_PROTOCOL_ERROR, "Reserved bits RSV2/RSV3 are set")
        if rsv1 and (not self._allow_rsv1 or opcode in _CONTROL_OPS):
            raise WSProtocolError(_PROTOCOL_ERROR, "RSV1 set without a negotiated extension")
        if opcode not in _DATA_OPS and opcode not in _CONTROL_OPS:
            raise WSProtocolError(_PROTOCOL_ERROR, f"Reserved opcode {opcode}")
        if opcode in _CONTROL_OPS:
            if not fin:
                raise WSProtocolError(_PROTOCOL_ERROR, "Fragmented control frame")
            if length > 125:
                raise WSProtocolError(_PROTOCOL_ERROR, "Control frame payload over 125 bytes")
        if masked != self._masked:
            raise WSProtocolError(
                _PROTOCOL_ERROR,
                "Received an unmasked frame from a client"
                if self._masked
                else "Received a masked frame from a server",
            )
        need = 2
        if length == 126:
            need = 4
            if end - pos < need:
                return 0
            length = _unpack_short(view, pos + 2)[0]
        elif length == 127:
            need = 10
            if end - pos < need:
                return 0
            length = _unpack_long(view, pos + 2)[0]
            if length >> 63:
                raise WSProtocolError(_PROTOCOL_ERROR, "Frame length has its top bit set")
        if masked:
            if end - pos < need + 4:
                return 0
            self._key = bytes(view[pos + need : pos + need + 4])
            need += 4
        self._fin = fin
        self._rsv1 = rsv1
        self._opcode = opcode
        self._length = length
        self._offset = 0
        self._first = True
        return need
