"""Side-by-side HTTP server benchmark: surge vs aiohttp, both on uvloop, driven by wrk.

    python -m bench.server [--duration 5] [--connections 64] [--only plaintext,json]
                           [--frameworks surge,aiohttp[,floor]] [--repeat 1] [--quick]
                           [--surge-src DIR] [--output FILE]

Each server runs in its own process pinned to core 0, wrk on core 1, over loopback, access logs
off. For every endpoint and framework it reports requests/s, p99 latency and the server's CPU
time per request (utime+stime over exactly the wrk run / requests served), then the ratios
surge/aiohttp, and writes the whole record as JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from bench import servers
from bench.endpoints import ENDPOINTS
from bench.measure import Measurement, measure
from bench.report import format_ratios, format_table, record
from bench.wrk import write_script

FRAMEWORKS = ("surge", "aiohttp")
# Opt-in reference: a bare uvloop + httptools protocol, the cost of a request with no framework.
REFERENCES = ("floor",)
SERVER_CPU, WRK_CPU = 0, 1


def _csv(choices: tuple[str, ...] | list[str]) -> Any:
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",") if t.strip()]
        unknown = [t for t in items if t not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return items

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=5, help="seconds of wrk per measurement")
    p.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each (0: none)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument(
        "--repeat", type=int, default=1, help="runs per measurement; the median CPU/request is kept"
    )
    p.add_argument("--only", type=_csv(list(ENDPOINTS)), default=list(ENDPOINTS))
    p.add_argument(
        "--frameworks",
        type=_csv(FRAMEWORKS + REFERENCES),
        default=list(FRAMEWORKS),
        help="comma-separated; add floor for a bare uvloop+httptools reference",
    )
    p.add_argument("--quick", action="store_true", help="1 s measurements, for smoke runs")
    p.add_argument(
        "--surge-src",
        type=Path,
        default=servers.REPO / "src",
        help="the src/ directory whose surge is measured (default: this checkout's)",
    )
    p.add_argument("--output", type=Path, help="JSON file (default: bench/results/<time>.json)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = 1
    if min(args.duration, args.connections, args.repeat) < 1 or args.warmup < 0:
        p.error("--duration, --connections and --repeat must be >= 1, --warmup >= 0")
    return args


def _git_rev(path: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _aiohttp_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("aiohttp")
    except Exception:
        return None


def _check_tools() -> None:
    missing = [t for t in ("wrk", "taskset") if shutil.which(t) is None]
    if missing:
        sys.exit(f"bench: missing tools: {', '.join(missing)} (make tools installs them)")
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench: needs 2 CPU cores (server on core 0, wrk on core 1)")


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so every `finally` (server shutdown) runs.
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace) -> dict[str, Any]:
    endpoints = [ENDPOINTS[name] for name in args.only]
    frameworks: list[str] = args.frameworks
    per_run = (args.duration + 10) * args.repeat + args.warmup
    max_seconds = len(endpoints) * len(frameworks) * per_run + 60
    results: list[Measurement] = []
    started = datetime.datetime.now(datetime.UTC)
    module_files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="surge-bench-") as tmp, contextlib.ExitStack() as stack:
        scripts = {e.name: write_script(e, Path(tmp)) for e in endpoints}
        running = {
            fw: stack.enter_context(
                servers.start(
                    fw, cpu=SERVER_CPU, surge_src=args.surge_src.resolve(), max_seconds=max_seconds
                )
            )
            for fw in frameworks
        }
        module_files = {fw: s.module_file for fw, s in running.items()}
        for fw, s in running.items():
            print(f"{fw}: pid {s.pid}, port {s.port}, {s.module_file}", file=sys.stderr)
        rounds = 0
        for endpoint in endpoints:
            runs: dict[str, list[Measurement]] = {fw: [] for fw in frameworks}
            for rep in range(args.repeat):
                # Alternate who goes first, so a slow drift of the shared machine favours no one.
                order = frameworks if rounds % 2 == 0 else frameworks[::-1]
                rounds += 1
                for fw in order:
                    print(f"  {endpoint.name} / {fw} ...", file=sys.stderr, flush=True)
                    runs[fw].append(
                        measure(
                            running[fw],
                            endpoint,
                            scripts[endpoint.name],
                            duration=args.duration,
                            warmup=args.warmup if rep == 0 else 0,
                            connections=args.connections,
                            wrk_cpu=WRK_CPU,
                        )
                    )
            for fw in frameworks:
                # With --repeat, the run of median CPU per request stands for the endpoint.
                ranked = sorted(runs[fw], key=lambda m: m.cpu_us_per_request)
                results.append(ranked[(len(ranked) - 1) // 2])
    results.sort(key=lambda m: (args.only.index(m.endpoint), frameworks.index(m.framework)))
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "repeat": args.repeat,
            "connections": args.connections,
            "wrk_threads": 1,
            "server_cpu": SERVER_CPU,
            "wrk_cpu": WRK_CPU,
            "loop": "uvloop",
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_avg_at_start": os.getloadavg(),
        },
        "surge": {"src": str(args.surge_src.resolve()), "git": _git_rev(args.surge_src)},
        "aiohttp": {"version": _aiohttp_version()} if "aiohttp" in frameworks else None,
        "module_files": module_files,
    }
    return {"measurements": results, "record": record(results, meta)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _check_tools()
    signal.signal(signal.SIGTERM, _terminate)
    out = run(args)
    results: list[Measurement] = out["measurements"]
    rec: dict[str, Any] = out["record"]
    print(format_table(results))
    ratio_text = format_ratios(rec["ratios"])
    if ratio_text:
        print()
        print(ratio_text)
    output: Path = args.output or (
        servers.REPO / "bench" / "results" / f"{rec['date'].replace(':', '')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(rec, indent=2) + "\n")
    print(f"\nresults: {output}")
    errors = sum(m.wrk.error_count for m in results)
    if errors:
        print(f"warning: {errors} wrk errors (see 'errors' in the table)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
