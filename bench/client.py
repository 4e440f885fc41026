"""Side-by-side HTTP client benchmark: surge vs aiohttp vs httpx against a local nginx.

    python -m bench.client [--requests 20000] [--concurrency 64] [--clients surge,aiohttp,httpx]
                           [--loop uvloop|asyncio] [--repeat 1] [--surge-src DIR]

nginx (Debian's) serves a 13-byte body over keep-alive, pinned to core 1; each client runs in its
own process pinned to core 0 and sends the same GET requests, ``--concurrency`` at a time, each
body read in full. Reported per client: requests/s and the client process's own CPU time per
request (getrusage over exactly the measured requests, after a warm-up), then the ratios
aiohttp/surge and httpx/surge on CPU per request. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from bench.lifetime import die_with_parent

CLIENTS = ("surge", "aiohttp", "httpx")
CLIENT_CPU, NGINX_CPU = 0, 1
BODY = "Hello, World!"
TARGETS = {"aiohttp": 2.0, "httpx": 10.0}  # CPU per request of that client over surge's

NGINX_CONFIG = """
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        location / {{ default_type text/plain; return 200 "{body}"; }}
    }}
}}
"""


# --- the worker: one client, in its own process ----------------------------------------------


async def _drive(
    fetch: Callable[[], Awaitable[bytes]], requests: int, concurrency: int
) -> tuple[int, int]:
    """``requests`` fetches, ``concurrency`` at a time; (done, errors)."""
    left = requests
    errors = 0

    async def worker() -> None:
        nonlocal left, errors
        while left > 0:
            left -= 1
            try:
                body = await fetch()
            except Exception:
                errors += 1
                continue
            if body != b"Hello, World!":
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests, errors


async def _run_client(name: str, url: str, requests: int, concurrency: int) -> dict[str, Any]:
    if name == "surge":
        import surge as lib
    elif name == "aiohttp":
        import aiohttp as lib  # type: ignore[no-redef]
    else:
        lib = None  # type: ignore[assignment]
    closer: Callable[[], Awaitable[None]]
    if lib is not None:
        session = lib.ClientSession(connector=lib.TCPConnector(limit=concurrency))

        async def fetch() -> bytes:
            async with session.get(url) as resp:
                return await resp.read()

        closer = session.close
        module_file = lib.__file__
    else:
        import httpx

        client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        )

        async def fetch() -> bytes:
            resp = await client.get(url)
            return resp.content

        closer = client.aclose
        module_file = httpx.__file__
    try:
        await _drive(fetch, min(2000, requests), concurrency)  # warm-up: connections, caches
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime
        t0 = time.perf_counter()
        done, errors = await _drive(fetch, requests, concurrency)
        elapsed = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime - cpu0
    finally:
        await closer()
    return {
        "client": name,
        "requests": done,
        "errors": errors,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rps": done / elapsed,
        "cpu_us_per_request": cpu / done * 1e6,
        "module_file": module_file,
    }


def worker_main(args: argparse.Namespace) -> None:
    coro = _run_client(args.worker, args.url, args.requests, args.concurrency)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    result["loop"] = args.loop
    print(json.dumps(result))


# --- the harness -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_nginx() -> Iterator[str]:
    binary = shutil.which("nginx")
    if binary is None:
        sys.exit("nginx is not installed (Debian: apt-get install nginx; or make tools)")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        port = _free_port()
        conf = Path(tmp, "nginx.conf")
        conf.write_text(NGINX_CONFIG.format(dir=tmp, port=port, body=BODY))
        cmd = [binary, "-c", str(conf), "-p", tmp, "-e", f"{tmp}/error.log"]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", str(NGINX_CPU), *cmd]
        proc = subprocess.Popen(cmd, preexec_fn=die_with_parent, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit("nginx did not start")
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_worker(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    repo = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(args.surge_src.resolve()), str(repo)])
    cmd = [
        sys.executable,
        "-m",
        "bench.client",
        "--worker",
        name,
        "--url",
        url,
        "--requests",
        str(args.requests),
        "--concurrency",
        str(args.concurrency),
        "--loop",
        args.loop,
    ]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", str(CLIENT_CPU), *cmd]
    out = subprocess.run(
        cmd, env=env, capture_output=True, text=True, preexec_fn=die_with_parent, timeout=900
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} worker failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| client  | req/s  | CPU µs/req | errors |",
        "|---------|-------:|-----------:|-------:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name:<7} | {r['rps']:>6,.0f} | {r['cpu_us_per_request']:>10.1f} | {r['errors']:>6} |"
        )
    surge = results.get("surge")
    if surge:
        lines += [
            "",
            "| vs surge | rps surge/other | CPU other/surge | target | met |",
            "|----------|----------------:|----------------:|-------:|-----|",
        ]
        for name, r in results.items():
            if name == "surge":
                continue
            cpu_ratio = r["cpu_us_per_request"] / surge["cpu_us_per_request"]
            target = TARGETS.get(name, 0.0)
            lines.append(
                f"| {name:<8} | {surge['rps'] / r['rps']:>14.2f}x | {cpu_ratio:>14.2f}x "
                f"| {target:>5.1f}x | {'yes' if cpu_ratio >= target else 'no'} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.client", description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated")
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    p.add_argument(
        "--repeat", type=int, default=1, help="runs per client; the median CPU/request is kept"
    )
    p.add_argument(
        "--surge-src",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "src",
        help="the src/ directory whose surge is measured",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON too")
    p.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)
        return
    names = [n.strip() for n in args.clients.split(",") if n.strip()]
    unknown = set(names) - set(CLIENTS)
    if unknown:
        sys.exit(f"unknown clients: {sorted(unknown)}")
    results: dict[str, dict[str, Any]] = {}
    with run_nginx() as url:
        for name in names:
            runs = sorted(
                (run_worker(name, url, args) for _ in range(max(1, args.repeat))),
                key=lambda r: r["cpu_us_per_request"],
            )
            results[name] = runs[len(runs) // 2]
    print(
        f"{args.requests} GET requests, concurrency {args.concurrency}, loop {args.loop}, "
        f"Python {sys.version.split()[0]}; surge from {results.get('surge', {}).get('module_file')}"
    )
    print(report(results))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
