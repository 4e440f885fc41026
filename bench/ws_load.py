"""The load of ``bench/ws.py``: a lean raw-protocol WebSocket client on one uvloop.

The ``websockets`` library in one process was several times slower than the servers it drove,
so they idled and their CPU per round trip measured wake-ups more than work. This client does
the least a correct client must: one prebuilt masked frame per message (the mask key is fixed;
the server unmasks whatever it is), ``window`` messages in flight per connection (1 = lockstep
round trips), and every echoed frame parsed (unmasked server frames, split anywhere across
reads), its payload length checked and, with permessage-deflate, inflated with :mod:`zlib`.
For compression it offers ``permessage-deflate; client_max_window_bits`` (what the
``websockets`` client offers) and deflates each message with context takeover, as a real
client does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
import zlib
from typing import Any

from bench.procstat import cpu_seconds

try:
    from websockets.speedups import apply_mask as _mask
except ImportError:

    def _mask(payload: bytes, key: bytes) -> bytes:
        n = len(payload)
        pad = int.from_bytes((key * (n // 4 + 1))[:n], "little")
        return (int.from_bytes(payload, "little") ^ pad).to_bytes(n, "little")


KEY = b"\x37\xfa\x21\x3d"
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_SYNC_TAIL = b"\x00\x00\xff\xff"


def client_frame(payload: bytes, text: bool, rsv1: bool = False) -> bytes:
    """One whole masked frame."""
    b0 = 0x80 | (0x40 if rsv1 else 0) | (0x1 if text else 0x2)
    n = len(payload)
    if n < 126:
        head = bytes((b0, 0x80 | n))
    elif n < 65536:
        head = bytes((b0, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, 0xFF)) + n.to_bytes(8, "big")
    return head + KEY + _mask(payload, KEY)


def server_frame(payload: bytes, text: bool) -> bytes:
    """The unmasked, uncompressed frame an echo of ``payload`` is, byte for byte."""
    b0 = 0x81 if text else 0x82
    n = len(payload)
    if n < 126:
        return bytes((b0, n)) + payload
    if n < 65536:
        return bytes((b0, 126)) + n.to_bytes(2, "big") + payload
    return bytes((b0, 127)) + n.to_bytes(8, "big") + payload


def client_close() -> bytes:
    """A masked close frame, code 1000."""
    return bytes((0x88, 0x82)) + KEY + _mask(b"\x03\xe8", KEY)


class LoadClient(asyncio.Protocol):
    """One connection: handshake, then ``window`` echoes in flight until stopped."""

    def __init__(self, path: str, payload: bytes, text: bool, window: int, compress: bool):
        self.path = path
        self.payload = payload
        self.text = text
        self.window = window
        self.compress = compress
        self.size = len(payload)
        self.count = 0
        self.sent = 0
        self.running = False
        self.buf = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: Any = None
        self.deflate: Any = None
        self.inflate: Any = None
        self.frame = b"" if compress else client_frame(payload, text)
        # Whole echoes as they come back (uncompressed): a batch of them is checked at once.
        self.echo = server_frame(payload, text)

    # handshake -----------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.key = base64.b64encode(os.urandom(16))
        ext = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        transport.write(
            b"GET " + self.path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + self.key + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\n" + (ext if self.compress else b"") + b"\r\n"
        )

    def _handshake(self) -> None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        if not head[0].startswith("HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {head[0]}")
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self.key + _GUID).digest()).decode()
        if fields.get("sec-websocket-accept") != accept:
            raise RuntimeError("bad Sec-WebSocket-Accept")
        if self.compress:
            self._setup_deflate(fields.get("sec-websocket-extensions", ""))
        self.upgraded = True
        self.ready.set_result(None)

    def _setup_deflate(self, answer: str) -> None:
        params = [p.strip() for p in answer.split(";")]
        if params[0] != "permessage-deflate":
            raise RuntimeError(f"permessage-deflate not agreed: {answer!r}")
        client_bits = server_bits = 15
        self.client_reset = False
        for param in params[1:]:
            name, _, value = param.partition("=")
            if name == "client_max_window_bits" and value:
                client_bits = int(value.strip('"'))
            elif name == "server_max_window_bits" and value:
                server_bits = int(value.strip('"'))
            elif name == "client_no_context_takeover":
                self.client_reset = True
        self.client_bits = client_bits
        self.deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -client_bits)
        self.inflate = zlib.decompressobj(-server_bits)  # server context: kept or not, fine

    # the load ------------------------------------------------------------------------------

    def start(self) -> None:
        self.running = True
        self._send(self.window)

    def _send(self, n: int) -> None:
        self.sent += n
        if not self.compress:
            self.transport.write(self.frame * n if n > 1 else self.frame)
            return
        frames = []
        for _ in range(n):
            if self.client_reset:
                self.deflate = zlib.compressobj(
                    zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.client_bits
                )
            data = self.deflate.compress(self.payload) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
            frames.append(client_frame(data[:-4], self.text, rsv1=True))
        self.transport.writelines(frames)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            self._handshake()
            if not self.upgraded or not buf:
                return
        echo = self.echo
        n = len(buf)
        if not self.compress and n % len(echo) == 0 and buf == echo * (n // len(echo)):
            done = n // len(echo)  # the usual case: whole echoes, checked in one comparison
            buf.clear()
        else:
            done = self._parse()
        if done:
            self.count += done
            if self.running:
                self._send(done)

    def _parse(self) -> int:
        """Whole frames off the front of the buffer; their number (each one checked)."""
        buf = self.buf
        pos = 0
        done = 0
        end = len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            if b1 & 0x80:
                raise RuntimeError("masked frame from the server")
            n = b1 & 0x7F
            start = pos + 2
            if n == 126:
                start += 2
                if start > end:
                    break
                n = int.from_bytes(buf[pos + 2 : start], "big")
            elif n == 127:
                start += 8
                if start > end:
                    break
                n = int.from_bytes(buf[pos + 2 : start], "big")
            stop = start + n
            if stop > end:
                break
            opcode = b0 & 0x0F
            if opcode == 0x8 and not self.running:  # the answer to our close: the end
                buf.clear()
                return done
            if b0 & 0x80 == 0 or opcode != (0x1 if self.text else 0x2):
                raise RuntimeError(f"unexpected frame 0x{b0:02x} (fragmented or control)")
            if b0 & 0x40:
                if self.inflate is None:
                    raise RuntimeError("compressed frame without permessage-deflate")
                size = len(self.inflate.decompress(bytes(buf[start:stop]) + _SYNC_TAIL))
            else:
                size = n
            if size != self.size:
                raise RuntimeError(f"echo of {size} bytes, sent {self.size}")
            done += 1
            pos = stop
        del buf[:pos]
        return done

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed during the handshake"))
        elif self.running:
            self.running = False
            print(f"connection lost during the load: {exc!r}")
        self.count = self.sent  # nothing more will come back


async def measure(
    port: int,
    pid: int,
    *,
    connections: int,
    payload: bytes,
    text: bool,
    compress: bool,
    window: int,
    duration: float,
) -> dict[str, float]:
    """Round trips/s, MB/s (payload, one direction) and server CPU µs per round trip."""
    loop = asyncio.get_running_loop()
    path = "/z" if compress else "/"
    clients: list[LoadClient] = []
    for _ in range(connections):
        _, client = await loop.create_connection(
            lambda: LoadClient(path, payload, text, window, compress), "127.0.0.1", port
        )
        await client.ready
        clients.append(client)
    for client in clients:
        client.start()
    await asyncio.sleep(min(0.5, duration))  # warm-up
    count0 = sum(c.count for c in clients)
    cpu0 = cpu_seconds(pid)
    start = time.monotonic()
    await asyncio.sleep(duration)
    total = sum(c.count for c in clients) - count0
    if any(c.count == 0 for c in clients):
        raise RuntimeError("a connection never got an echo")
    cpu = cpu_seconds(pid) - cpu0
    elapsed = time.monotonic() - start
    for client in clients:
        client.running = False
    for _ in range(100):  # let the echoes in flight come back, then close cleanly
        if all(c.count == c.sent for c in clients):
            break
        await asyncio.sleep(0.01)
    close = client_close()
    for client in clients:
        client.transport.write(close)
    await asyncio.sleep(0.05)
    for client in clients:
        client.transport.close()
    return {
        "rt_per_s": total / elapsed,
        "mb_per_s": total * len(payload) / elapsed / 1e6,
        "cpu_us_per_rt": cpu / total * 1e6 if total else float("nan"),
    }
