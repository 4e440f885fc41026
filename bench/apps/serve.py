"""Serve the benchmark app: ``python -m bench.apps.serve surge|aiohttp [--max-seconds N]``.

Binds 127.0.0.1 on a free port, prints ``READY <port> <framework-file>`` once listening, serves on
uvloop with access logs off, and exits on SIGTERM/SIGINT or after ``--max-seconds`` so a lost
server never outlives its benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import socket
import sys

import uvloop

from bench.apps.app import build_app


async def serve(framework: str, max_seconds: float) -> None:
    web = importlib.import_module(f"{framework}.web")
    root = importlib.import_module(framework)
    runner = web.AppRunner(build_app(web), access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(max_seconds, stop.set)
    print(f"READY {sock.getsockname()[1]} {root.__file__}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=["surge", "aiohttp"])
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    uvloop.run(serve(args.framework, args.max_seconds))
    sys.exit(0)


if __name__ == "__main__":
    main()
