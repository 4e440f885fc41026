"""Client cost per request in CPU instructions (callgrind): deterministic where wall clocks
on a shared machine are not.

    python -m bench.client_instr [--clients surge,aiohttp] [--requests 1000,3000]
                                 [--concurrency 8] [--loop uvloop|asyncio] [--profile]

nginx (as in :mod:`bench.client`) answers on loopback; each client runs under
``valgrind --tool=callgrind`` twice, sending ``a`` then ``b`` GET requests (after the same
warm-up). Valgrind counts only the client process's user-space instructions, so
``(I_b - I_a) / (b - a)`` is the client's own cost per request with start-up cancelled out
(the kernel's share of the two syscalls per request is not in it; :mod:`bench.client` measures
that too). ``--profile`` prints a cProfile of the surge client instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.client import _drive, run_nginx
from bench.lifetime import die_with_parent

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


async def _run(name: str, url: str, requests: int, concurrency: int) -> None:
    if name == "surge":
        import surge as lib
    else:
        import aiohttp as lib  # type: ignore[no-redef]
    async with lib.ClientSession(connector=lib.TCPConnector(limit=concurrency)) as session:

        async def fetch() -> bytes:
            async with session.get(url) as resp:
                return await resp.read()

        await _drive(fetch, 200, concurrency)  # warm-up: connections, caches
        _, errors = await _drive(fetch, requests, concurrency)
        if errors:
            raise SystemExit(f"{name}: {errors} errors")


def _loop_run(coro: Any, loop: str) -> None:
    if loop == "uvloop":
        import uvloop

        uvloop.run(coro)
    else:
        asyncio.run(coro)


def _instructions(name: str, url: str, requests: int, args: argparse.Namespace) -> int:
    env = dict(os.environ)
    repo = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(args.surge_src.resolve()), str(repo)])
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.client_instr",
        "--worker",
        name,
        "--url",
        url,
        "--requests",
        str(requests),
        "--concurrency",
        str(args.concurrency),
        "--loop",
        args.loop,
    ]
    out = subprocess.run(
        cmd, env=env, capture_output=True, text=True, preexec_fn=die_with_parent, timeout=1800
    )
    match = _COLLECTED.search(out.stderr)
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"{name} under callgrind failed:\n{out.stderr[-3000:]}")
    return int(match.group(1))


def _profile(url: str, requests: int, args: argparse.Namespace) -> None:
    prof = cProfile.Profile()
    prof.enable()
    _loop_run(_run("surge", url, requests, args.concurrency), args.loop)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(35)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.client_instr")
    p.add_argument("--clients", default="surge,aiohttp")
    p.add_argument("--requests", default="1000,3000", help="the two run lengths a,b")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    p.add_argument("--surge-src", type=Path, default=Path(__file__).resolve().parent.parent / "src")
    p.add_argument("--profile", action="store_true", help="cProfile the surge client")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        _loop_run(_run(args.worker, args.url, int(args.requests), args.concurrency), args.loop)
        return
    if args.profile:
        sys.path.insert(0, str(args.surge_src.resolve()))
        with run_nginx() as url:
            _profile(url, int(args.requests.split(",")[-1]), args)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    a, b = (int(n) for n in args.requests.split(","))
    results: dict[str, float] = {}
    with run_nginx() as url:
        for name in (n.strip() for n in args.clients.split(",") if n.strip()):
            ia = _instructions(name, url, a, args)
            ib = _instructions(name, url, b, args)
            results[name] = (ib - ia) / (b - a)
            print(f"{name:<8} {results[name]:>12,.0f} instructions/request", flush=True)
    if "surge" in results and "aiohttp" in results:
        print(f"aiohttp/surge: {results['aiohttp'] / results['surge']:.2f}x")


if __name__ == "__main__":
    main()
