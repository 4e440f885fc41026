"""The peers ``bench.h2`` measures surge against, each serving the same two answers.

    python -m bench.h2_peers hypercorn --max-seconds 60
    python -m bench.h2_peers granian --max-seconds 60

Each prints ``READY <port> <name>`` once it accepts connections and stops on SIGTERM or after
``--max-seconds``. Both serve ``/`` (``Hello, World!``, text/plain) and ``/json`` (the body of
``bench/apps/app.py``) over cleartext HTTP/2 by prior knowledge.

- hypercorn: in this process (uvloop), an ASGI app.
- granian: a child process (``granian --interface rsgi --http 2 --workers 1
  --runtime-threads 1``) whose Rust runtime and one worker process run under this launcher, so
  their CPU is this process tree's (see ``tree_cpu_seconds``). Affinity (taskset) is inherited.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from bench.apps.app import JSON_BODY
from bench.lifetime import die_with_parent
from bench.procstat import cpu_seconds

_HELLO = b"Hello, World!"
_JSON = json.dumps(JSON_BODY).encode()
_TEXT_TYPE = "text/plain; charset=utf-8"


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and every live descendant (granian's workers are children)."""
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited between the listing and the read
    return total


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# hypercorn: ASGI ---------------------------------------------------------------------------


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/json":
        body, ctype = _JSON, b"application/json"
    else:
        body, ctype = _HELLO, _TEXT_TYPE.encode()
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve_hypercorn(max_seconds: float) -> None:
    import uvloop
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = _free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    config.backlog = 1024

    async def main() -> None:
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_event.set)
        loop.call_later(max_seconds, stop_event.set)
        loop.call_later(0.5, lambda: print(f"READY {port} hypercorn", flush=True))
        await serve(asgi_app, config, shutdown_trigger=stop_event.wait)  # type: ignore[arg-type]

    uvloop.run(main())


# granian: RSGI (its native interface, the fastest it offers) -------------------------------


async def rsgi_app(scope: Any, proto: Any) -> None:
    if scope.path == "/json":
        proto.response_bytes(200, [("content-type", "application/json")], _JSON)
    else:
        proto.response_bytes(200, [("content-type", _TEXT_TYPE)], _HELLO)


def serve_granian(max_seconds: float) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "granian", "--interface", "rsgi", "--http", "2"]
    cmd += ["--workers", "1", "--runtime-threads", "1", "--no-ws", "--log-level", "warning"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "bench.h2_peers:rsgi_app"]
    child = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, preexec_fn=die_with_parent
    )
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    deadline = time.monotonic() + max_seconds
    try:
        while child.poll() is None:  # ready once it accepts a connection
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        print(f"READY {port} granian", flush=True)
        while not stopping and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=["hypercorn", "granian"])
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    if args.framework == "hypercorn":
        serve_hypercorn(args.max_seconds)
    else:
        serve_granian(args.max_seconds)


if __name__ == "__main__":
    main()
