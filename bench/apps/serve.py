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
from collections.abc import Awaitable, Callable

import uvloop

from bench.apps import floor as floor_module
from bench.apps.app import build_app
from bench.apps.floor import FloorProtocol


async def serve(framework: str, max_seconds: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    if framework == "floor":
        server = await loop.create_server(FloorProtocol, sock=sock, backlog=1024)

        async def close_floor() -> None:
            server.close()
            await server.wait_closed()

        cleanup: Callable[[], Awaitable[None]] = close_floor
        module_file = floor_module.__file__
    else:
        web = importlib.import_module(f"{framework}.web")
        runner = web.AppRunner(build_app(web), access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        cleanup = runner.cleanup
        module_file = str(importlib.import_module(framework).__file__)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(max_seconds, stop.set)
    print(f"READY {sock.getsockname()[1]} {module_file}", flush=True)
    try:
        await stop.wait()
    finally:
        await cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=["surge", "aiohttp", "floor"])
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    uvloop.run(serve(args.framework, args.max_seconds))
    sys.exit(0)


if __name__ == "__main__":
    main()
