"""Driving wrk: a Lua script per endpoint (method, body, and a machine-readable summary)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.endpoints import Endpoint
from bench.lifetime import die_with_parent

_MARK = "BENCH_RESULT "

# wrk calls done() once after the run; it prints one JSON line the harness picks out of stdout.
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\\n',
    "{mark}", summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured, from the client's side."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def write_script(endpoint: Endpoint, directory: Path) -> Path:
    """The Lua script for ``endpoint``: its method and body, and the JSON summary."""
    lines = [f'wrk.method = "{endpoint.method}"']
    if endpoint.body_size:
        # Lua's string escapes: every byte as \\ddd keeps the script ASCII and exact.
        escaped = "".join(f"\\{b:03d}" for b in endpoint.body)
        lines.append(f'wrk.body = "{escaped}"')
        lines.append('wrk.headers["Content-Type"] = "application/octet-stream"')
    path = directory / f"{endpoint.name}.lua"
    path.write_text("\n".join(lines) + _DONE.replace("{mark}", _MARK))
    return path


def run_wrk(
    url: str,
    script: Path,
    *,
    duration: int,
    connections: int,
    cpu: int,
) -> WrkResult:
    """Run wrk (one thread, pinned to ``cpu``) against ``url``; stops by itself."""
    cmd = [
        "taskset",
        "-c",
        str(cpu),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(duration, 1)}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=False,
        preexec_fn=die_with_parent,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            data = json.loads(line[len(_MARK) :])
            return WrkResult(
                requests=data["requests"],
                duration_s=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1e3,
                p99_ms=data["p99_us"] / 1e3,
                errors=data["errors"],
            )
    raise RuntimeError(
        f"wrk gave no result (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout[-500:]}"
    )
