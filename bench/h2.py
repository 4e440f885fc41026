"""HTTP/2 benchmark: surge vs hypercorn under h2load, plus surge's own HTTP/1.1 for scale.

    python -m bench.h2                    # 5 s per run, -c16 -m16, plaintext and json
    python -m bench.h2 --quick            # 1 s runs (smoke test)

Every server runs pinned to core 0 (``taskset``), h2load with one thread on core 1. Per run:
requests/s and failed streams from h2load, and the server's CPU µs per request from
/proc/PID/stat read right before and after the measured run (see bench/README.md).
Rows: surge h2 (prior knowledge), hypercorn h2, and surge HTTP/1.1 (``h2load --h1``), whose
CPU figure is what surge's HTTP/2 cost is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.apps.app import JSON_BODY
from bench.lifetime import die_with_parent
from bench.procstat import cpu_seconds
from bench.servers import REPO, Server, _wait_ready, stop

ENDPOINTS = {"plaintext": ("/", b"Hello, World!"), "json": ("/json", None)}


# hypercorn's side: a minimal ASGI app answering like bench/apps/app.py ------------------------


async def _asgi_app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    if scope["type"] != "http":
        return
    if scope["path"] == "/json":
        body = json.dumps(JSON_BODY).encode()
        ctype = b"application/json"
    else:
        body = b"Hello, World!"
        ctype = b"text/plain; charset=utf-8"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": body})  # type: ignore[operator]


def _serve_hypercorn(max_seconds: float) -> None:
    import uvloop
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
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
        await serve(_asgi_app, config, shutdown_trigger=stop_event.wait)  # type: ignore[arg-type]

    uvloop.run(main())


# the harness ------------------------------------------------------------------------------


@contextlib.contextmanager
def _start(framework: str, surge_src: Path, max_seconds: float) -> Iterator[Server]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(surge_src), str(REPO)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if framework == "surge":
        target = ["-m", "bench.apps.serve", "surge", "--max-seconds", str(int(max_seconds))]
    else:
        target = ["-m", "bench.h2", "--serve-hypercorn", "--max-seconds", str(int(max_seconds))]
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, *target],
        stdout=subprocess.PIPE,
        # hypercorn prints a cancellation traceback when stopped; nothing to read there.
        stderr=subprocess.DEVNULL if framework == "hypercorn" else None,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=die_with_parent,
    )
    server = None
    try:
        port, module_file = _wait_ready(proc, timeout=20)
        server = Server(framework, proc, port, module_file)
        yield server
    finally:
        if server is None:
            proc.kill()
            proc.wait(timeout=5)
        else:
            stop(server)
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass(slots=True)
class H2Result:
    framework: str
    protocol: str
    endpoint: str
    requests: int
    succeeded: int
    failed: int
    errored: int
    timeout: int
    rps: float
    cpu_us_per_req: float


_TOTALS = re.compile(
    r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
    r"(\d+) errored, (\d+) timeout"
)
_FINISHED = re.compile(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s")


def _h2load(url: str, duration: float, h1: bool, clients: int, streams: int) -> str:
    cmd = ["taskset", "-c", "1", "h2load", "-t1", f"-c{clients}", f"-m{streams}"]
    cmd += ["-D", str(max(1, round(duration)))]
    if h1:
        cmd.append("--h1")
    cmd.append(url)
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, preexec_fn=die_with_parent
    )
    if proc.returncode != 0:
        raise RuntimeError(f"h2load failed: {proc.stderr or proc.stdout}")
    return proc.stdout


def measure(
    server: Server, endpoint: str, *, h1: bool, duration: float, warmup: float, c: int, m: int
) -> H2Result:
    path, _ = ENDPOINTS[endpoint]
    url = server.url(path)
    if warmup:
        _h2load(url, warmup, h1, c, m)
    before = cpu_seconds(server.pid)
    out = _h2load(url, duration, h1, c, m)
    cpu = cpu_seconds(server.pid) - before
    totals = _TOTALS.search(out)
    finished = _FINISHED.search(out)
    if totals is None or finished is None:
        raise RuntimeError(f"unexpected h2load output:\n{out}")
    _total, done, ok, failed, errored, timeout = map(int, totals.groups())
    return H2Result(
        server.framework,
        "h1" if h1 else "h2",
        endpoint,
        done,
        ok,
        failed,
        errored,
        timeout,
        float(finished.group(3)),
        cpu / done * 1e6 if done else float("nan"),
    )


def _check(server: Server, h1: bool) -> None:
    """Every endpoint answers 200 with the expected body before anything is measured."""
    flag = "--http1.1" if h1 else "--http2-prior-knowledge"
    for name, (path, body) in ENDPOINTS.items():
        proc = subprocess.run(
            ["curl", "-s", flag, "-w", "%{http_code}", server.url(path)],
            capture_output=True,
            timeout=10,
        )
        status = proc.stdout[-3:]
        got = proc.stdout[:-3]
        expected = body if body is not None else json.dumps(JSON_BODY).encode()
        if status != b"200" or (json.loads(got) if body is None else got) != (
            json.loads(expected) if body is None else expected
        ):
            raise RuntimeError(f"{server.framework} {name}: bad answer {proc.stdout[:200]!r}")


def report(results: list[H2Result]) -> str:
    lines = [
        "| endpoint  | server         | req/s  | CPU µs/req | failed streams |",
        "|-----------|----------------|-------:|-----------:|---------------:|",
    ]
    for r in results:
        failed = r.failed + r.errored + r.timeout
        lines.append(
            f"| {r.endpoint:<9} | {r.framework + ' ' + r.protocol:<14} | {r.rps:>6.0f} "
            f"| {r.cpu_us_per_req:>10.1f} | {failed:>14} |"
        )
    by = {(r.framework, r.protocol, r.endpoint): r for r in results}
    for endpoint in ENDPOINTS:
        s2 = by.get(("surge", "h2", endpoint))
        hc = by.get(("hypercorn", "h2", endpoint))
        s1 = by.get(("surge", "h1", endpoint))
        if s2 and hc and hc.rps:
            lines.append(
                f"{endpoint}: rps surge/hypercorn {s2.rps / hc.rps:.2f}x (target >= 3), "
                f"CPU hypercorn/surge {hc.cpu_us_per_req / s2.cpu_us_per_req:.2f}x"
            )
        if s2 and s1:
            lines.append(
                f"{endpoint}: surge CPU h2/h1 {s2.cpu_us_per_req / s1.cpu_us_per_req:.2f}x "
                "(target <= 1.5)"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--frameworks", default="surge,hypercorn")
    parser.add_argument("--surge-src", type=Path, default=REPO / "src")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--serve-hypercorn", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=900.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hypercorn:
        _serve_hypercorn(args.max_seconds)
        return
    if args.quick:
        args.duration, args.warmup = 1.0, 0.0
    budget = (args.duration + args.warmup + 5) * 3 * len(ENDPOINTS) + 30
    results: list[H2Result] = []
    for framework in args.frameworks.split(","):
        with _start(framework, args.surge_src.resolve(), budget) as server:
            protocols = [False, True] if framework == "surge" else [False]
            for h1 in protocols:
                _check(server, h1)
                for endpoint in ENDPOINTS:
                    results.append(
                        measure(
                            server,
                            endpoint,
                            h1=h1,
                            duration=args.duration,
                            warmup=args.warmup,
                            c=args.clients,
                            m=args.streams,
                        )
                    )
    print(report(results))
    if args.output:
        args.output.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
