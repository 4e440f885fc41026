"""The surge client multiplexing: 1,000 concurrent GETs over one HTTP/2 connection vs HTTP/1.1.

    python -m bench.h2_client                     # 1,000 concurrent GETs, 5 rounds per protocol
    python -m bench.h2_client --concurrency 1000 --rounds 10

One surge server (``bench/apps/app.py``, uvloop, MAX_CONCURRENT_STREAMS raised to the
concurrency so one connection carries every stream) pinned to core 1; the client in this
process on core 0, uvloop. Per protocol: a warm-up round, then ``--rounds`` rounds of
``--concurrency`` GETs started at once with ``asyncio.gather``, every body read and checked.
HTTP/2 is prior knowledge (one connection); HTTP/1.1 uses the default pool (``limit=100``
connections, so 1,000 requests queue for them). Reported: requests/s over the measured
rounds, the client's CPU µs per request (``getrusage``) and the connections opened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from bench.lifetime import die_with_parent
from bench.servers import REPO, _wait_ready


def _serve(max_streams: int, max_seconds: float) -> None:
    import uvloop

    from bench.apps.app import build_app
    from surge import web
    from surge.http.h2.settings import H2Limits

    async def main() -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        runner = web.AppRunner(
            build_app(web),
            access_log=None,
            handle_signals=False,
            http2_limits=H2Limits(max_concurrent_streams=max_streams),
        )
        await runner.setup()
        await web.SockSite(runner, sock, backlog=2048).start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.call_later(max_seconds, stop.set)
        print(f"READY {sock.getsockname()[1]} surge", flush=True)
        await stop.wait()
        await runner.cleanup()

    uvloop.run(main())


@contextlib.contextmanager
def _server(max_streams: int) -> Iterator[int]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]))
    cmd = ["taskset", "-c", "1", sys.executable, "-m", "bench.h2_client", "--serve"]
    proc = subprocess.Popen(
        [*cmd, "--concurrency", str(max_streams)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=die_with_parent,
    )
    try:
        port, _ = _wait_ready(proc, timeout=20)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


async def _measure(url: str, http2: bool, concurrency: int, rounds: int) -> dict[str, float]:
    from surge import ClientSession

    async with ClientSession(http2="prior_knowledge" if http2 else False) as session:

        async def get() -> None:
            async with session.get(url) as resp:
                body = await resp.read()
                if resp.status != 200 or body != b"Hello, World!":
                    raise RuntimeError(f"bad answer {resp.status} {body[:60]!r}")
                if resp.version != ((2, 0) if http2 else (1, 1)):
                    raise RuntimeError(f"unexpected version {resp.version}")

        async def one_round() -> None:
            await asyncio.gather(*[get() for _ in range(concurrency)])

        await one_round()  # warm-up: connections open, caches warm
        connector = session.connector
        assert connector is not None
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        for _ in range(rounds):
            await one_round()
        wall = time.perf_counter() - t0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
        if http2:
            conns = sum(len(group) for group in connector._h2.values())
        else:
            conns = sum(len(group) for group in connector._pool.values())
    total = concurrency * rounds
    return {"rps": total / wall, "cpu_us": cpu / total * 1e6, "connections": conns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=300.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.concurrency, args.max_seconds)
        return
    import uvloop

    os.sched_setaffinity(0, {0})
    results = {}
    with _server(args.concurrency) as port:
        url = f"http://127.0.0.1:{port}/"
        for name, http2 in (("HTTP/2 (1 connection)", True), ("HTTP/1.1 (pool)", False)):
            results[name] = uvloop.run(_measure(url, http2, args.concurrency, args.rounds))
    print(f"{args.concurrency} concurrent GETs x {args.rounds} rounds, surge client and server")
    print("| protocol              | req/s | client CPU µs/req | connections |")
    print("|-----------------------|------:|------------------:|------------:|")
    for name, r in results.items():
        print(
            f"| {name:<21} | {r['rps']:>5.0f} | {r['cpu_us']:>17.1f} | {r['connections']:>11.0f} |"
        )


if __name__ == "__main__":
    main()
