"""Deterministic per-message cost of surge's server-side WebSocket echo, without sockets.

    python -m bench.ws_cost                         # instructions per message, every scenario
    python -m bench.ws_cost --only small --profile  # cProfile of one scenario
    python -m bench.ws_cost --run small 1000        # one run (what callgrind counts)
    python -m bench.ws_cost --only 1mib-z --faults  # CPU time and page faults per message

A :class:`WebSocketChannel` is started on a fake transport; client frames (masked, compressed
where the scenario says; ``small-x16``: 16 frames per read, as a windowed load delivers them)
go in through the protocol's ``data_received`` and an echo handler, as
in ``bench/ws.py``, answers each with ``send_str``/``send_bytes``. The transport only records
what was written. ``valgrind --tool=callgrind`` counts the instructions of two runs of different
lengths; their difference divided by the difference in messages is the cost of one message,
free of start-up and of the noise of a shared machine. Callgrind does not see the kernel:
``--faults`` runs the same two lengths natively and reports, per message, user and system CPU
time and minor page faults (a buffer that glibc serves from a fresh mmap faults in every page,
which costs more than the copy callgrind would count).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import resource
import subprocess
import sys
import zlib
from typing import Any

from surge.http.ws.connection import WSConnection
from surge.http.ws.deflate import DeflateParams
from surge.http.ws.frames import OP_BINARY, OP_TEXT, apply_mask
from surge.http.ws.models import WSMsgType
from surge.net.websocket import WebSocketChannel

MAX_MSG = 16 * 1024 * 1024
READ_SIZE = 256 * 1024  # what one data_received carries for a big message (uvloop's read size)
SMALL = b"x" * 32
BIG = bytes(range(256)) * 4096
BIG_TEXTLIKE = (b"the quick brown fox jumps over the lazy dog %d\n" * 25000)[: 1 << 20]

# name: (opcode, payload, compressed, messages per read)
SCENARIOS: dict[str, tuple[int, bytes, bool, int]] = {
    "small": (OP_TEXT, SMALL, False, 1),
    "small-x16": (OP_TEXT, SMALL, False, 16),
    "small-z": (OP_TEXT, SMALL, True, 1),
    "1mib": (OP_BINARY, BIG, False, 1),
    "1mib-z": (OP_TEXT, BIG_TEXTLIKE, True, 1),
    "1mib-zb": (OP_BINARY, BIG_TEXTLIKE, True, 1),  # what bench.ws's 1mib-z sends
}
RUNS = {
    "small": (1000, 3000),
    "small-x16": (1600, 4800),
    "small-z": (1000, 3000),
    "1mib": (10, 30),
    "1mib-z": (10, 30),
    "1mib-zb": (10, 30),
}


def client_frame(opcode: int, payload: bytes, *, rsv1: bool) -> bytes:
    key = b"\x37\xfa\x21\x3d"
    n = len(payload)
    b0 = 0x80 | (0x40 if rsv1 else 0) | opcode
    if n < 126:
        head = bytes((b0, 0x80 | n))
    elif n < 65536:
        head = bytes((b0, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, 0xFF)) + n.to_bytes(8, "big")
    return head + key + apply_mask(payload, key)


def frames(opcode: int, payload: bytes, compressed: bool) -> tuple[bytes, bytes]:
    """The first frame and the frame of every later message (identical with context takeover:
    the compressor finds the previous message in its window)."""
    if not compressed:
        frame = client_frame(opcode, payload, rsv1=False)
        return frame, frame
    comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15, 5)  # as websockets
    out = []
    for _ in range(3):
        data = comp.compress(payload) + comp.flush(zlib.Z_SYNC_FLUSH)
        out.append(client_frame(opcode, data[:-4], rsv1=True))
    assert out[1] == out[2]
    return out[0], out[1]


class FakeTransport(asyncio.Transport):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.protocol: Any = None
        self.written = 0
        self.calls = 0
        self.target = 0
        self.waiter: asyncio.Future[None] | None = None

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol

    def is_reading(self) -> bool:
        return True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def _wrote(self, n: int) -> None:
        self.written += n
        self.calls += 1
        waiter = self.waiter
        if waiter is not None and self.written >= self.target:
            self.waiter = None
            waiter.set_result(None)

    def write(self, data: Any) -> None:
        self._wrote(len(data))

    def writelines(self, list_of_data: Any) -> None:
        self._wrote(sum(len(d) for d in list_of_data))


class Channel(WebSocketChannel):
    pass


async def echo(ws: Channel) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)


async def run(name: str, count: int) -> tuple[int, int]:
    opcode, payload, compressed, per_read = SCENARIOS[name]
    first, later = frames(opcode, payload, compressed)
    if per_read > 1:  # a burst: several whole frames in one read (uncompressed only)
        first = later = later * per_read
    loop = asyncio.get_running_loop()
    transport = FakeTransport(loop)
    ws = Channel()
    ws._ws_configure(
        timeout=10.0,
        receive_timeout=None,
        autoclose=True,
        autoping=True,
        heartbeat=None,
        max_msg_size=MAX_MSG,
    )
    conn = WSConnection(
        client=False, max_size=MAX_MSG, deflate=DeflateParams() if compressed else None
    )
    ws._ws_start(transport, conn, b"", None)
    task = loop.create_task(echo(ws))
    proto = transport.protocol
    chunks = [
        [frame[i : i + READ_SIZE] for i in range(0, len(frame), READ_SIZE)]
        for frame in (first, later)
    ]
    echo_size = len(payload) + (2 if len(payload) < 126 else 4 if len(payload) < 65536 else 10)
    for i in range(count // per_read):
        transport.target = transport.written + (echo_size * per_read if not compressed else 1)
        done = transport.waiter = loop.create_future()
        for chunk in chunks[i > 0]:
            proto.data_received(chunk)
        await done
    task.cancel()
    return transport.written, transport.calls


def main_run(name: str, count: int) -> None:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    before = resource.getrusage(resource.RUSAGE_SELF)
    written, calls = runner(run(name, count))
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{name} {count} messages, {written} bytes written in {calls} write calls")
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(f"rusage {user:.6f} {system:.6f} {after.ru_minflt - before.ru_minflt}")


def faults(name: str, count: int) -> tuple[float, float, int]:
    """User and system CPU seconds and minor faults of one native run of ``count`` messages."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.ws_cost", "--run", name, str(count)],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    ).stdout
    match = re.search(r"rusage (\S+) (\S+) (\d+)", out)
    assert match, out
    return float(match.group(1)), float(match.group(2)), int(match.group(3))


def callgrind(name: str, count: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.ws_cost",
            "--run",
            name,
            str(count),
        ],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    match = re.search(r"Collected : (\d+)", out.stderr)
    assert match, out.stderr
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", nargs=2, metavar=("SCENARIO", "COUNT"))
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args()
    if args.run:
        main_run(args.run[0], int(args.run[1]))
        return
    names = [n for n in SCENARIOS if not args.only or n in args.only.split(",")]
    for name in names:
        low, high = RUNS[name]
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            asyncio.run(run(name, high))
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(18)
            continue
        if args.faults:
            low, high = low * 10, high * 10
            (u1, s1, f1), (u2, s2, f2) = faults(name, low), faults(name, high)
            n = high - low
            print(
                f"{name:<8} user {(u2 - u1) / n * 1e6:9.1f} µs  system {(s2 - s1) / n * 1e6:9.1f} µs"
                f"  minor faults {(f2 - f1) / n:7.1f} per message",
                flush=True,
            )
            continue
        a, b = callgrind(name, low), callgrind(name, high)
        print(f"{name:<8} {(b - a) / (high - low):>12,.0f} instructions/message", flush=True)


if __name__ == "__main__":
    main()
