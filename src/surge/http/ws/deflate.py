"""permessage-deflate (RFC 7692): negotiation and the per-message codec.

Invariants:
- Only offers zlib can honour are accepted: a window of 8 bits cannot be produced by zlib's
  raw deflate (it silently uses 9), so an offer that limits our compressor to 8 is declined.
- Inflating is bounded: a message never inflates past ``max_size`` bytes (0 = unbounded);
  past it the caller gets a 1009 error before more memory is spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from surge.http import zlib_backend
from surge.http.ws.errors import WSHandshakeError, WSProtocolError

__all__ = [
    "DeflateParams",
    "MessageDeflater",
    "MessageInflater",
    "client_accept",
    "client_offer",
    "parse_extensions",
    "server_accept",
]

EXTENSION = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"
_MESSAGE_TOO_BIG = 1009
_INVALID_DATA = 1007


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """Agreed parameters, seen from one side: what we compress with and what the peer does."""

    local_no_context_takeover: bool = False
    remote_no_context_takeover: bool = False
    local_max_window_bits: int = 15
    remote_max_window_bits: int = 15


def parse_extensions(header: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Split a ``Sec-WebSocket-Extensions`` value into ``(name, [(param, value), ...])``."""
    result: list[tuple[str, list[tuple[str, str | None]]]] = []
    for offer in header.split(","):
        parts = [p.strip() for p in offer.split(";")]
        if not parts[0]:
            continue
        params: list[tuple[str, str | None]] = []
        for part in parts[1:]:
            if not part:
                continue
            name, eq, raw = part.partition("=")
            params.append((name.strip().lower(), raw.strip().strip('"') if eq else None))
        result.append((parts[0].lower(), params))
    return result


def _bits(value: str | None, *, optional: bool) -> int | None:
    if value is None:
        if optional:
            return None
        raise ValueError("missing value")
    if not value.isdigit() or not 8 <= int(value) <= 15:
        raise ValueError("bad window bits")
    return int(value)


def _read_params(params: list[tuple[str, str | None]]) -> dict[str, int | bool | None]:
    seen: dict[str, int | bool | None] = {}
    for name, value in params:
        if name in seen:
            raise ValueError(f"duplicate {name}")
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise ValueError(f"{name} takes no value")
            seen[name] = True
        elif name == "server_max_window_bits":
            seen[name] = _bits(value, optional=False)
        elif name == "client_max_window_bits":
            seen[name] = _bits(value, optional=True)
        else:
            raise ValueError(f"unknown parameter {name}")
    return seen


def server_accept(header: str) -> tuple[str, DeflateParams] | None:
    """The first acceptable offer in a client's header: the response value and our params."""
    for name, params in parse_extensions(header):
        if name != EXTENSION:
            continue
        try:
            seen = _read_params(params)
        except ValueError:
            continue
        server_bits = seen.get("server_max_window_bits")
        if server_bits == 8:
            continue  # zlib cannot compress with a 256-byte window
        answer = [EXTENSION]
        if seen.get("server_no_context_takeover"):
            answer.append("server_no_context_takeover")
        if seen.get("client_no_context_takeover"):
            answer.append("client_no_context_takeover")
        if server_bits is not None:
            answer.append(f"server_max_window_bits={server_bits}")
        client_bits = seen.get("client_max_window_bits")
        if isinstance(client_bits, int) and client_bits is not True:
            answer.append(f"client_max_window_bits={client_bits}")
        return "; ".join(answer), DeflateParams(
            local_no_context_takeover=bool(seen.get("server_no_context_takeover")),
            remote_no_context_takeover=bool(seen.get("client_no_context_takeover")),
            local_max_window_bits=int(server_bits or 15),
            remote_max_window_bits=client_bits if isinstance(client_bits, int) else 15,
        )
    return None


def client_offer(*, no_context_takeover: bool = False, max_window_bits: int = 15) -> str:
    """What a client offers; ``max_window_bits`` < 15 limits the server's window."""
    parts = [EXTENSION, "client_max_window_bits"]
    if max_window_bits < 15:
        parts.append(f"server_max_window_bits={max_window_bits}")
    if no_context_takeover:
        parts.append("client_no_context_takeover")
    return "; ".join(parts)


def client_accept(header: str, *, offered_no_context_takeover: bool = False) -> DeflateParams:
    """Check a server's answer to our offer; raise :class:`WSHandshakeError` if unusable."""
    exts = parse_extensions(header)
    if len(exts) != 1 or exts[0][0] != EXTENSION:
        raise WSHandshakeError(f"Unexpected extensions: {header!r}")
    try:
        seen = _read_params(exts[0][1])
    except ValueError as exc:
        raise WSHandshakeError(f"Invalid permessage-deflate answer: {exc}") from None
    client_bits = seen.get("client_max_window_bits")
    if client_bits == 8:
        raise WSHandshakeError("client_max_window_bits=8 is not supported")
    server_bits = seen.get("server_max_window_bits")
    return DeflateParams(
        local_no_context_takeover=bool(seen.get("client_no_context_takeover"))
        or offered_no_context_takeover,
        remote_no_context_takeover=bool(seen.get("server_no_context_takeover")),
        local_max_window_bits=client_bits if isinstance(client_bits, int) else 15,
        remote_max_window_bits=server_bits if isinstance(server_bits, int) else 15,
    )


# Compression settings, chosen by counting instructions on 1 MiB of text: level 1 (what nginx
# and aiohttp use) costs a third of zlib's default level 6 for output about twice as large;
# memLevel 5 (websockets' choice) costs 30% less than the default 8 (a smaller hash table to
# clear and keep in cache) for output 0.2% larger, and takes less memory per connection.
# These were counted on zlib. zlib-ng (the default backend when installed) at level 1 uses its
# "quick" strategy (static Huffman codes, memLevel ignored): 1 MiB of JSON deflates 2x faster
# than zlib's level 1 for output 30% larger, repetitive text 5x faster; its level 2 would be
# as small as zlib's level 1 but only 1.2x faster, and CPU is what a server runs out of first.
DEFAULT_LEVEL = zlib_backend.Z_BEST_SPEED
MEM_LEVEL = 5


class MessageDeflater:
    """Compresses whole messages with one compressor for the connection's life.

    Without context takeover each message ends with a full flush, which empties the window
    so the next message cannot refer back: the same guarantee as a fresh compressor, without
    building one (and its tables) per message.
    """

    __slots__ = ("_comp", "_flush_mode")

    def __init__(self, params: DeflateParams, level: int = DEFAULT_LEVEL) -> None:
        self._comp = zlib_backend.backend.compressobj(
            level, zlib_backend.DEFLATED, -params.local_max_window_bits, MEM_LEVEL
        )
        self._flush_mode = (
            zlib_backend.Z_FULL_FLUSH
            if params.local_no_context_takeover
            else zlib_backend.Z_SYNC_FLUSH
        )

    def compress(self, data: bytes) -> bytes:
        comp = self._comp
        body = comp.compress(data)
        tail = comp.flush(self._flush_mode)
        # Both flushes end with the empty stored block 00 00 ff ff, which RFC 7692 drops:
        # cut from the flush's few bytes, so a big body is copied once (joined), not twice.
        if tail.endswith(_TAIL):
            tail = tail[:-4]
            out = body + tail if tail else body
        else:  # a flush with nothing to add gives b"": the tail may sit in the body
            out = body + tail
            if out.endswith(_TAIL):
                out = out[:-4]
        return out or b"\x00"


# What a message may inflate to in one call before the inflater asks for more, at least (see
# MessageInflater); zlib starts its buffer smaller anyway, so small messages pay nothing.
_MIN_GUESS = 64 * 1024


class MessageInflater:
    """Inflates a message chunk by chunk, bounded by ``max_size`` per message.

    One decompressor serves the whole connection even without the peer's context takeover:
    a message that never refers back decodes the same with an old window present.

    Each call asks zlib for at most a little more than the previous message's inflated size
    (peers tend to repeat sizes), then for more only while the output keeps filling what was
    asked. zlib grows its output buffer up to the ``max_length`` it is given: a generous bound
    (``max_size``, often MiBs) lets a 1 MiB message's buffer double past 1 MiB, an allocation
    glibc serves with a fresh mmap whose every page then faults in (~0.4 ms of kernel time
    per MiB, more than inflating it). A message bigger than the guess costs one join.
    """

    __slots__ = ("_decomp", "_max_size", "_produced", "_want")

    def __init__(self, params: DeflateParams, max_size: int) -> None:
        # A bigger window than the peer's always decodes its stream correctly.
        self._max_size = max_size
        self._decomp = zlib_backend.backend.decompressobj(-15)
        self._produced = 0
        # What one call asks zlib for at most: the last message's size + 1, or more.
        self._want = _MIN_GUESS + 1

    def inflate(self, data: bytes, *, end: bool) -> bytes:
        """Inflate the next chunk of a compressed message; ``end`` on its last one."""
        if end:
            data += _TAIL
        limit = self._max_size
        produced = self._produced
        want = self._want
        if limit:
            # One byte past the limit tells an oversize message without inflating it all.
            room = limit - produced + 1
            if want > room:
                want = room
        else:
            room = 0
        try:
            out = self._decomp.decompress(data, want)
            if len(out) == want:  # the buffer filled: there may be more
                out = self._rest(out, room)
        except zlib_backend.errors as exc:
            raise WSProtocolError(_INVALID_DATA, f"Invalid compressed data: {exc}") from None
        if end:
            size = produced + len(out)
            self._want = size + 1 if size > _MIN_GUESS else _MIN_GUESS + 1
            self._produced = 0
        else:
            self._produced = produced + len(out)
        return out

    def _rest(self, first: bytes, room: int) -> bytes:
        """``first`` and what else the input inflates to, asking for twice as much each time,
        never past ``room`` bytes in all (0: unbounded)."""
        decomp = self._decomp
        parts = [first]
        size = len(first)
        while True:
            if room and size >= room:
                raise WSProtocolError(
                    _MESSAGE_TOO_BIG, f"Inflated message exceeds {self._max_size} bytes"
                )
            step = size if not room else min(size, room - size)
            more = decomp.decompress(decomp.unconsumed_tail, step)
            parts.append(more)
            size += len(more)
            if len(more) < step:
                return b"".join(parts)
