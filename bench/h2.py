"""HTTP/2 benchmark: surge vs hypercorn vs granian under h2load, plus surge's own HTTP/1.1.

    python -m bench.h2                    # 5 s per run, -c16 -m16, plaintext and json
    python -m bench.h2 --quick            # 1 s runs (smoke test)

Every server runs pinned to core 0 (``taskset``), h2load with one thread on core 1. Per run:
requests/s and failed streams from h2load, and the server's CPU µs per request from
/proc/PID/stat read right before and after the measured run (see bench/README.md).
Rows: surge h2 (prior knowledge), hypercorn h2, granian h2 (``bench/h2_peers.py``: the same
answers, one worker, cleartext HTTP/2 by prior knowledge) and surge HTTP/1.1 (``h2load --h1``),
whose CPU figure is what surge's HTTP/2 cost is compared with. CPU is the server's whole process
tree (granian runs its worker as a child process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.apps.app import JSON_BODY
from bench.h2_peers import tree_cpu_seconds
from bench.lifetime import die_with_parent
from bench.servers import REPO, Server, _wait_ready, stop

ENDPOINTS = {"plaintext": ("/", b"Hello, World!"), "json": ("/json", None)}


# the harness ------------------------------------------------------------------------------


@contextlib.contextmanager
def _start(framework: str, surge_src: Path, max_seconds: float) -> Iterator[Server]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(surge_src), str(REPO)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if framework == "surge":
        target = ["-m", "bench.apps.serve", "surge", "--max-seconds", str(int(max_seconds))]
    else:
        target = ["-m", "bench.h2_peers", framework, "--max-seconds", str(int(max_seconds))]
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, *target],
        stdout=subprocess.PIPE,
        # hypercorn prints a cancellation traceback when stopped; nothing to read there.
        stderr=subprocess.DEVNULL if framework != "surge" else None,
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
    before = tree_cpu_seconds(server.pid)
    out = _h2load(url, duration, h1, c, m)
    cpu = tree_cpu_seconds(server.pid) - before
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
        for peer, target in (("hypercorn", " (target >= 3)"), ("granian", "")):
            other = by.get((peer, "h2", endpoint))
            if s2 and other and other.rps:
                lines.append(
                    f"{endpoint}: rps surge/{peer} {s2.rps / other.rps:.2f}x{target}, "
                    f"CPU {peer}/surge {other.cpu_us_per_req / s2.cpu_us_per_req:.2f}x"
                )
        s1 = by.get(("surge", "h1", endpoint))
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
    parser.add_argument("--frameworks", default="surge,hypercorn,granian")
    parser.add_argument("--surge-src", type=Path, default=REPO / "src")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
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
