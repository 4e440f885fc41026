"""One WebSocket connection as a sans-IO state machine: bytes in, messages out; calls in,
bytes out.

Invariants:
- Messages are assembled from frames under RFC 6455's rules (continuations only inside a
  fragmented message, control frames may interleave, never fragmented, <= 125 bytes).
- Text is validated while it arrives with an incremental UTF-8 decoder: the first invalid
  byte fails the connection (1007), even mid-frame.
- ``max_size`` bounds a message's (inflated) size and is checked against a frame's declared
  length as soon as its header is read: an oversize frame fails with 1009 before its payload.
- After a protocol error the connection is dead: :meth:`receive_data` raises again and the
  caller sends the close frame this error calls for (:meth:`fail`).
"""

from __future__ import annotations

import codecs
import enum
import os

from surge.http.ws.deflate import DEFAULT_LEVEL, DeflateParams, MessageDeflater, MessageInflater
from surge.http.ws.errors import WSProtocolError
from surge.http.ws.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    VIEW_FROM,
    FrameReader,
    apply_mask,
    encode_frame,
    frame_header,
    mask_range,
    mask_short,
    masked_header,
)
from surge.http.ws.models import WSMessage, WSMsgType

__all__ = ["ConnectionState", "WSConnection", "is_valid_close_code"]

_Utf8Decoder = codecs.getincrementaldecoder("utf-8")
_VALID_CLOSE = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))
_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
# Headers of whole unmasked frames (a server's) by payload length, for short messages.
_TEXT_HEADS = tuple(bytes((0x80 | OP_TEXT, n)) for n in range(126))
_BINARY_HEADS = tuple(bytes((0x80 | OP_BINARY, n)) for n in range(126))
# Building the message tuple directly skips the generated keyword-checking ``__new__``.
_new_message = tuple.__new__


def _valid_utf8(data: bytes) -> bytes:
    """``data`` itself once checked to be UTF-8 (ASCII needs no decoding to tell)."""
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise WSProtocolError(1007, "Invalid UTF-8 in text message") from None
    return data


def is_valid_close_code(code: int) -> bool:
    """Whether ``code`` may appear in a close frame on the wire (RFC 6455 section 7.4)."""
    return code in _VALID_CLOSE or 3000 <= code <= 4999


class ConnectionState(enum.Enum):
    OPEN = "open"
    CLOSE_SENT = "close sent"  # we sent a close frame, waiting for the peer's
    CLOSE_RECEIVED = "close received"  # the peer sent one, ours is still to go
    CLOSED = "closed"  # both close frames went
    FAILED = "failed"  # a protocol error ended the connection


class WSConnection:
    """RFC 6455 message layer over :class:`FrameReader` with optional permessage-deflate.

    ``client`` picks the side (clients mask what they send and refuse masked frames).
    ``decode_text=False`` hands TEXT messages out as their UTF-8 bytes (still validated).
    """

    __slots__ = (
        "_compressed",
        "_decode_text",
        "_decoder",
        "_deflater",
        "_general",
        "_inflater",
        "_masked",
        "_max_size",
        "_opcode",
        "_parts",
        "_plain_ops",
        "_reader",
        "_size",
        "_window_bits",
        "client",
        "close_code",
        "close_reason",
        "short_heads",
        "state",
    )

    def __init__(
        self,
        *,
        client: bool,
        max_size: int = 4 * 1024 * 1024,
        deflate: DeflateParams | None = None,
        compress_level: int = DEFAULT_LEVEL,
        decode_text: bool = True,
    ) -> None:
        self.client = client
        self._decode_text = decode_text
        self._reader = FrameReader(masked=not client, allow_rsv1=deflate is not None)
        # For the fast path: the mask bit the peer must set, and the first header bytes of
        # whole (FIN) text/binary frames, compressed (RSV1) only when deflate was agreed.
        self._masked = 0 if client else 0x80
        plain = {0x80 | OP_TEXT, 0x80 | OP_BINARY}
        if deflate is not None:
            plain |= {0xC0 | OP_TEXT, 0xC0 | OP_BINARY}
        self._plain_ops = frozenset(plain)
        self._max_size = max_size
        #: A server without deflate: headers of whole frames by payload length (< 126),
        #: ``short_heads[text][n]``, for a caller to frame short messages without a call.
        self.short_heads = (_BINARY_HEADS, _TEXT_HEADS) if not client and deflate is None else None
        self._deflater = MessageDeflater(deflate, compress_level) if deflate else None
        self._window_bits = deflate.local_max_window_bits if deflate else 0
        self._inflater = MessageInflater(deflate, max_size) if deflate else None
        self.state = ConnectionState.OPEN
        self.close_code: int | None = None
        self.close_reason = ""
        # The message being assembled: opcode (0 when none), parts, size so far.
        self._opcode = 0
        self._compressed = False
        self._parts: list[bytes] | list[str] = []
        self._size = 0
        self._decoder: codecs.IncrementalDecoder | None = None
        # Whether the next bytes must go through the incremental reader (a frame or a
        # fragmented message is under way, or the connection failed).
        self._general = False

    @property
    def compress(self) -> int:
        """permessage-deflate as negotiated: the window bits this side compresses with (9-15),
        0 when it is not in use."""
        return self._window_bits

    # receiving -------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[WSMessage]:
        """Messages completed by ``data`` (TEXT, BINARY, PING, PONG, CLOSE).

        Raises :class:`WSProtocolError` on any violation; the connection is failed then.
        """
        out: list[WSMessage] = []
        if self._general:
            return self._receive_general(data, 0, out)
        # The fast path: whole unfragmented data frames, each parsed in one step. It stops at
        # the first frame it leaves to the general path (a control frame, a fragment, a frame
        # not yet complete, anything it would have to refuse).
        end = len(data)
        pos = 0
        masked = self._masked
        head = 6 if masked else 2
        plain_ops = self._plain_ops
        limit = self._max_size
        try:
            while end - pos >= head:
                b0 = data[pos]
                if b0 not in plain_ops:
                    break
                length = data[pos + 1]
                if (length & 0x80) != masked:
                    break
                length &= 0x7F
                start = pos + head
                if length == 126:
                    start += 2
                    if start > end:
                        break
                    length = (data[pos + 2] << 8) | data[pos + 3]
                elif length == 127:
                    break
                if limit and length > limit:
                    break  # the general path refuses it (or bounds what it inflates to)
                stop = start + length
                if stop > end:
                    break
                if masked:
                    if length < VIEW_FROM:
                        payload = mask_short(data[start:stop], data[start - 4 : start])
                    else:
                        payload = mask_range(data, start, stop, data[start - 4 : start])
                else:
                    payload = data[start:stop]
                if b0 & 0x40:
                    payload = self._inflater.inflate(payload, end=True)  # type: ignore[union-attr]
                if b0 & 0x0F == OP_TEXT:
                    if self._decode_text:
                        try:
                            text = payload.decode("utf-8")
                        except UnicodeDecodeError:
                            raise WSProtocolError(1007, "Invalid UTF-8 in text message") from None
                        out.append(_new_message(WSMessage, (_TEXT, text, "")))
                    else:
                        out.append(_new_message(WSMessage, (_TEXT, _valid_utf8(payload), "")))
                else:
                    out.append(_new_message(WSMessage, (_BINARY, payload, "")))
                pos = stop
        except WSProtocolError as exc:
            self._failed(exc, out)
            raise
        if pos == end:
            return out
        return self._receive_general(data, pos, out)

    def _receive_general(self, data: bytes, start: int, out: list[WSMessage]) -> list[WSMessage]:
        """Frames from ``data[start:]`` through the incremental reader, any shape."""
        if self.state is ConnectionState.FAILED:
            raise WSProtocolError(1002, "Connection already failed")
        try:
            self._receive(data, start, out)
        except WSProtocolError as exc:
            self._failed(exc, out)
            raise
        # Back to the fast path once nothing is left half-read or half-assembled.
        self._general = bool(self._opcode) or not self._reader.idle
        return out

    def _failed(self, exc: WSProtocolError, out: list[WSMessage]) -> None:
        # Messages completed before the fault still count: the caller may deliver them (in
        # order) before failing the connection.
        exc.messages = out
        self.mark_failed()

    def mark_failed(self) -> None:
        """End the connection for good (a fault found here or by the caller): any later
        :meth:`receive_data` raises."""
        self.state = ConnectionState.FAILED
        self._general = True

    def _receive(self, data: bytes, start: int, out: list[WSMessage]) -> None:
        for fin, rsv1, opcode, length, first, chunk, last in self._reader.feed(data, start):
            if opcode >= OP_CLOSE:
                out.append(self._control(opcode, chunk))
                continue
            if first:
                self._frame_start(opcode, rsv1, length)
            if self._compressed:
                assert self._inflater is not None
                chunk = self._inflater.inflate(chunk, end=last and fin)
                self._size += len(chunk)
            if self._decoder is not None:
                try:
                    text = self._decoder.decode(chunk, last and fin)
                except UnicodeDecodeError:
                    raise WSProtocolError(1007, "Invalid UTF-8 in text message") from None
                if not self._decode_text:
                    if chunk:
                        self._parts.append(chunk)  # type: ignore[arg-type]
                elif text:
                    self._parts.append(text)  # type: ignore[arg-type]
            elif chunk:
                self._parts.append(chunk)  # type: ignore[arg-type]
            if last and fin:
                out.append(self._message_done())
        self._reader.raise_pending()

    def _frame_start(self, opcode: int, rsv1: bool, length: int) -> None:
        if opcode == OP_CONTINUATION:
            if not self._opcode:
                raise WSProtocolError(1002, "Continuation frame without a message to continue")
            if rsv1:
                raise WSProtocolError(1002, "RSV1 set on a continuation frame")
        else:
            if self._opcode:
                raise WSProtocolError(1002, "New data frame inside a fragmented message")
            self._opcode = opcode
            self._compressed = rsv1
            self._size = 0
            self._parts = []
            self._decoder = _Utf8Decoder() if opcode == OP_TEXT else None
        if not self._compressed:
            self._size += length
        limit = self._max_size
        if limit and self._size > limit:
            raise WSProtocolError(1009, f"Message size exceeds the limit of {limit} bytes")

    def _message_done(self) -> WSMessage:
        parts = self._parts
        opcode = self._opcode
        self._opcode = 0
        self._parts = []
        if opcode == OP_TEXT:
            self._decoder = None
            if self._decode_text:
                return WSMessage(_TEXT, parts[0] if len(parts) == 1 else "".join(parts), "")  # type: ignore[arg-type]
            kind = _TEXT
        else:
            kind = _BINARY
        data = parts[0] if len(parts) == 1 else b"".join(parts)  # type: ignore[arg-type]
        return WSMessage(kind, data, "")

    def _control(self, opcode: int, payload: bytes) -> WSMessage:
        if opcode == OP_PING:
            return WSMessage(WSMsgType.PING, payload, "")
        if opcode == OP_PONG:
            return WSMessage(WSMsgType.PONG, payload, "")
        if len(payload) == 1:
            raise WSProtocolError(1002, "Close frame with a 1-byte payload")
        code = 1005  # no status code present
        reason = ""
        if payload:
            code = int.from_bytes(payload[:2], "big")
            if not is_valid_close_code(code):
                raise WSProtocolError(1002, f"Invalid close code {code}")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise WSProtocolError(1007, "Invalid UTF-8 in close reason") from None
        self.close_code = code
        self.close_reason = reason
        if self.state is ConnectionState.CLOSE_SENT:
            self.state = ConnectionState.CLOSED
        elif self.state is ConnectionState.OPEN:
            self.state = ConnectionState.CLOSE_RECEIVED
        return WSMessage(WSMsgType.CLOSE, code, reason)

    # sending ---------------------------------------------------------------------------------

    def send_message(self, data: bytes, *, text: bool, compress: bool | None = None) -> bytes:
        """Frame one whole message (``data`` already encoded for text)."""
        if not self.client and (self._deflater is None or compress is False):
            n = len(data)
            if n < 126:
                return (_TEXT_HEADS if text else _BINARY_HEADS)[n] + data
        head, payload = self.message_parts(data, text=text, compress=compress)
        return head + payload

    def message_parts(
        self, data: bytes, *, text: bool, compress: bool | None = None
    ) -> tuple[bytes, bytes]:
        """One whole message as its frame header and payload, to be written one after the
        other: a big payload is not copied into one buffer with its header."""
        opcode = OP_TEXT if text else OP_BINARY
        deflater = self._deflater
        rsv1 = deflater is not None and compress is not False
        if rsv1:
            data = deflater.compress(data)  # type: ignore[union-attr]
        if self.client:
            key = os.urandom(4)
            return masked_header(opcode, len(data), key, rsv1=rsv1), apply_mask(data, key)
        return frame_header(opcode, len(data), rsv1=rsv1), data

    def send_frame(self, data: bytes, opcode: int, *, fin: bool = True) -> bytes:
        """Frame raw ``data`` with ``opcode`` (no compression)."""
        return encode_frame(opcode, data, fin=fin, mask=self.client)

    def send_ping(self, data: bytes = b"") -> bytes:
        if len(data) > 125:
            raise ValueError("Ping payload must be at most 125 bytes")
        return encode_frame(OP_PING, data, mask=self.client)

    def send_pong(self, data: bytes = b"") -> bytes:
        if len(data) > 125:
            raise ValueError("Pong payload must be at most 125 bytes")
        return encode_frame(OP_PONG, data, mask=self.client)

    def send_close(self, code: int | None = 1000, reason: bytes | str = b"") -> bytes:
        """A close frame; moves to CLOSE_SENT (or CLOSED when answering the peer's)."""
        if isinstance(reason, str):
            reason = reason.encode("utf-8")
        if code is None or code == 1005:
            payload = b""
        else:
            payload = code.to_bytes(2, "big") + reason
            if len(payload) > 125:
                raise ValueError("Close reason must be at most 123 bytes")
        if self.state is ConnectionState.CLOSE_RECEIVED:
            self.state = ConnectionState.CLOSED
        elif self.state is ConnectionState.OPEN:
            self.state = ConnectionState.CLOSE_SENT
        return encode_frame(OP_CLOSE, payload, mask=self.client)
