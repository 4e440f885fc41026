"""Deterministic per-request cost of the HTTP/1.1 server, surge and aiohttp, without sockets.

    python -m bench.h1_cost                                  # both frameworks, every endpoint
    python -m bench.h1_cost --frameworks surge --only plaintext,routing
    python -m bench.h1_cost --run surge plaintext 1000       # one run (what callgrind counts)
    python -m bench.h1_cost --profile surge routing          # cProfile of one endpoint

The benchmark app (``bench/apps/app.py``, the same one ``bench.server`` serves) is built on the
framework's ``web`` module; its protocol gets a fake transport that only counts writes, and each
request is delivered to ``data_received`` from a loop callback (as a real transport does, outside
any task), one at a time, the next only once the answer was written. ``valgrind
--tool=callgrind`` counts the instructions of two runs of different lengths; the difference over
the difference in requests is the cost of one request, free of start-up and of the noise of a
shared machine (PYTHONHASHSEED is pinned so dict layouts repeat). Kernel work (reads, writes,
epoll) is not in it: ``bench.server`` measures the whole; this shows where a change moved the
framework's own share.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import subprocess
import sys
from typing import Any

from bench.apps.app import build_app

HEAD = b"Host: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n"
ENDPOINTS = {
    "plaintext": b"GET / HTTP/1.1\r\n" + HEAD + b"\r\n",
    "json": b"GET /json HTTP/1.1\r\n" + HEAD + b"\r\n",
    "routing": b"GET /route/12345 HTTP/1.1\r\n" + HEAD + b"\r\n",
    "echo-1k": b"POST /echo HTTP/1.1\r\n"
    + HEAD
    + b"Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n"
    + b"x" * 1024,
}
RUNS = (1000, 4000)


class FakeTransport(asyncio.Transport):
    """Counts writes; everything else is a no-op that says the connection is healthy."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.protocol: Any = None

    def write(self, data: Any) -> None:
        self.writes += 1

    def writelines(self, list_of_data: Any) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol


async def run(framework: str, endpoint: str, count: int) -> int:
    web: Any = __import__(f"{framework}.web", fromlist=["web"])
    runner = web.AppRunner(build_app(web), access_log=None)
    await runner.setup()
    transport = FakeTransport()
    protocol = runner.server()
    transport.protocol = protocol
    protocol.connection_made(transport)
    request = ENDPOINTS[endpoint]
    loop = asyncio.get_running_loop()
    for _ in range(count + 200):  # 200 to warm caches and the interpreter's specialisation
        before = transport.writes
        loop.call_soon(transport.protocol.data_received, request)
        await asyncio.sleep(0)
        while transport.writes == before:
            await asyncio.sleep(0)
    await runner.cleanup()
    return transport.writes


def main_run(framework: str, endpoint: str, count: int) -> None:
    import uvloop

    writes = uvloop.run(run(framework, endpoint, count))
    print(f"{framework} {endpoint}: {count} requests, {writes} writes")


def callgrind(framework: str, endpoint: str, count: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.h1_cost",
            "--run",
            framework,
            endpoint,
            str(count),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    match = re.search(r"Collected : (\d+)", out.stderr)
    assert match, out.stderr
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", nargs=3, metavar=("FRAMEWORK", "ENDPOINT", "COUNT"))
    parser.add_argument("--profile", nargs=2, metavar=("FRAMEWORK", "ENDPOINT"))
    parser.add_argument("--frameworks", default="surge,aiohttp")
    parser.add_argument("--only", default="", help="comma-separated endpoints")
    args = parser.parse_args()
    if args.run:
        main_run(args.run[0], args.run[1], int(args.run[2]))
        return
    if args.profile:
        import uvloop

        prof = cProfile.Profile()
        prof.enable()
        uvloop.run(run(args.profile[0], args.profile[1], RUNS[1]))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return
    endpoints = [e for e in ENDPOINTS if not args.only or e in args.only.split(",")]
    frameworks = args.frameworks.split(",")
    low, high = RUNS
    costs: dict[tuple[str, str], float] = {}
    for endpoint in endpoints:
        for framework in frameworks:
            a, b = callgrind(framework, endpoint, low), callgrind(framework, endpoint, high)
            costs[framework, endpoint] = (b - a) / (high - low)
            print(f"{endpoint:<10} {framework:<8} {costs[framework, endpoint]:>10,.0f} instr/req")
        if {"surge", "aiohttp"} <= set(frameworks):
            ratio = costs["aiohttp", endpoint] / costs["surge", endpoint]
            print(f"{endpoint:<10} aiohttp/surge {ratio:.2f}x", flush=True)


if __name__ == "__main__":
    main()
