"""WebSocket benchmark: surge vs aiohttp echo servers, side by side in one run.

    python -m bench.ws                     # all scenarios, 3 s each
    python -m bench.ws --duration 1 --only small-1

    python -m bench.ws --only small-64 --window 16 --frameworks surge,aiohttp,floor

Each server runs in its own process pinned to core 0 on uvloop (``--serve FRAMEWORK``); the load
is the lean raw-protocol client of ``bench/ws_load.py`` in this process (core 1), identical for
every framework. Reported per scenario: the window (messages in flight per connection; 1 =
lockstep round trips), round trips/s, MB/s (payload echoed, one direction) and the server's CPU
per round trip (``/proc`` utime+stime), the figure least disturbed by a shared machine.

Scenarios: ``small-1`` / ``small-64`` (32-byte text echo over 1 / 64 connections, lockstep),
``small-1-w32`` / ``small-64-w16`` (the same with 32 / 16 messages in flight per connection),
``small-64-z`` (small-64 with permessage-deflate), ``1mib`` / ``1mib-z`` (1 MiB binary echo,
without / with permessage-deflate; the compressed payload is text-like, so it compresses).
``--window N`` sets the window of every scenario run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lifetime import die_with_parent
from bench.ws_load import measure

REPO = Path(__file__).resolve().parent.parent
MAX_MSG = 16 * 1024 * 1024
SMALL = b"x" * 32
BIG = os.urandom(1 << 20)
BIG_TEXTLIKE = (b"the quick brown fox jumps over the lazy dog %d\n" * 25000)[: 1 << 20]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    connections: int
    payload: bytes
    text: bool
    compress: bool
    window: int = 1


SCENARIOS = [
    Scenario("small-1", 1, SMALL, True, False),
    Scenario("small-64", 64, SMALL, True, False),
    Scenario("small-1-w32", 1, SMALL, True, False, 32),
    Scenario("small-64-w16", 64, SMALL, True, False, 16),
    Scenario("small-64-z", 64, SMALL, True, True),
    Scenario("1mib", 1, BIG, False, False),
    Scenario("1mib-z", 1, BIG_TEXTLIKE, False, True),
]


# --- the servers (run in a child process) ----------------------------------------------------


def build_app(web: Any) -> Any:
    async def echo(request: Any) -> Any:
        ws = web.WebSocketResponse(max_msg_size=MAX_MSG, compress=request.path == "/z")
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    app.router.add_get("/z", echo)
    return app


try:  # the floor masks in C, as surge and aiohttp do when they can
    from websockets.speedups import apply_mask as _unmask
except ImportError:

    def _unmask(payload: bytes, key: bytes) -> bytes:
        n = len(payload)
        mask = int.from_bytes((key * (n // 4 + 1))[:n], "little")
        return (int.from_bytes(payload, "little") ^ mask).to_bytes(n, "little")


class FloorProtocol(asyncio.Protocol):
    """The ``floor`` reference: no framework, just what an echo must do at the least (answer
    the handshake, unmask, frame the answers, one write per read). It assumes what the load
    sends (whole uncompressed data frames, no control frames but the last close), so it runs
    the uncompressed scenarios."""

    transport: Any = None
    head = b""
    upgraded = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.upgraded:
            self.echo(data)
            return
        self.head += data
        if b"\r\n\r\n" not in self.head:
            return
        import base64
        import hashlib

        key = next(
            line.split(b":", 1)[1].strip()
            for line in self.head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(
            hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
        )
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self.upgraded = True
        self.buf = bytearray()

    def echo(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        out = []  # the answers to one read go out in one write, as surge's do
        pos = 0
        while len(buf) - pos >= 6:
            n = buf[pos + 1] & 0x7F
            start = pos + (6 if n < 126 else 8 if n == 126 else 14)
            if n == 126:
                n = int.from_bytes(buf[pos + 2 : pos + 4], "big")
            elif n == 127:
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            if len(buf) < start + n:
                break
            key = bytes(buf[start - 4 : start])
            plain = _unmask(bytes(buf[start : start + n]), key)
            b0 = buf[pos]
            if n < 126:
                head = bytes((b0, n))
            elif n < 65536:
                head = bytes((b0, 126)) + n.to_bytes(2, "big")
            else:
                head = bytes((b0, 127)) + n.to_bytes(8, "big")
            out.append(head + plain)
            pos = start + n
            if b0 & 0x0F == 0x8:  # a close frame: echoed as the answer, then TCP goes
                self.transport.writelines(out)
                self.transport.close()
                return
        del buf[:pos]
        if out:
            self.transport.writelines(out)


async def serve(framework: str, max_seconds: float) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    if framework == "floor":
        server = await loop.create_server(FloorProtocol, sock=sock, backlog=1024)
        runner = None
        where = __file__
    else:
        web = importlib.import_module(f"{framework}.web")
        runner = web.AppRunner(build_app(web), access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        where = importlib.import_module(framework).__file__
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(max_seconds, stop.set)
    print(f"READY {sock.getsockname()[1]} {where}", flush=True)
    try:
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        else:
            server.close()


def start_server(framework: str, surge_src: Path, max_seconds: float) -> tuple[Any, int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(surge_src), str(REPO)])
    cmd = [
        sys.executable,
        "-m",
        "bench.ws",
        "--serve",
        framework,
        "--max-seconds",
        str(max_seconds),
    ]
    if os.path.exists("/usr/bin/taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO, preexec_fn=die_with_parent
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"{framework} server did not start")
    return proc, int(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", choices=["surge", "aiohttp", "floor"])
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--window", type=int, default=0, help="messages in flight per connection")
    parser.add_argument("--only", default="")
    parser.add_argument("--frameworks", default="surge,aiohttp")
    parser.add_argument("--surge-src", type=Path, default=REPO / "src")
    args = parser.parse_args()
    import uvloop

    if args.serve:
        uvloop.run(serve(args.serve, args.max_seconds))
        return
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
        os.sched_setaffinity(0, {1})
    wanted = set(filter(None, args.only.split(",")))
    scenarios = [s for s in SCENARIOS if not wanted or s.name in wanted]
    if args.window:
        scenarios = [dataclasses.replace(s, window=args.window) for s in scenarios]
    frameworks = args.frameworks.split(",")
    results: dict[tuple[str, str], dict[str, float]] = {}
    servers = {fw: start_server(fw, args.surge_src, args.max_seconds) for fw in frameworks}
    try:
        for n, scenario in enumerate(scenarios):
            order = frameworks if n % 2 == 0 else frameworks[::-1]  # alternate who goes first
            for fw in order:
                if fw == "floor" and scenario.compress:
                    continue
                proc, port = servers[fw]
                results[fw, scenario.name] = uvloop.run(
                    measure(
                        port,
                        proc.pid,
                        connections=scenario.connections,
                        payload=scenario.payload,
                        text=scenario.text,
                        compress=scenario.compress,
                        window=scenario.window,
                        duration=args.duration,
                    )
                )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    print(
        f"{'scenario':<13} {'window':>6} {'framework':<9} {'rt/s':>9} {'MB/s':>8} {'CPU us/rt':>10}"
    )
    for scenario in scenarios:
        for fw in frameworks:
            if (fw, scenario.name) not in results:
                continue
            r = results[fw, scenario.name]
            print(
                f"{scenario.name:<13} {scenario.window:>6} {fw:<9} {r['rt_per_s']:>9.0f}"
                f" {r['mb_per_s']:>8.1f}"
                f" {r['cpu_us_per_rt']:>10.1f}"
            )
        if {"surge", "aiohttp"} <= set(frameworks):
            s, a = results["surge", scenario.name], results["aiohttp", scenario.name]
            print(
                f"{'':<13} {'':>6} {'ratio':<9} {s['rt_per_s'] / a['rt_per_s']:>8.2f}x"
                f" {'':>8} {a['cpu_us_per_rt'] / s['cpu_us_per_rt']:>9.2f}x (CPU aiohttp/surge)"
            )


if __name__ == "__main__":
    main()
