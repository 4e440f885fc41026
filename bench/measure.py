"""One measurement: check the answer, warm up, then wrk with the server's CPU time around it."""

from __future__ import annotations

import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.endpoints import Endpoint
from bench.procstat import cpu_seconds
from bench.servers import Server
from bench.wrk import WrkResult, run_wrk


@dataclass(frozen=True, slots=True)
class Measurement:
    """Client-side figures from wrk plus the server's CPU time over exactly that run."""

    framework: str
    endpoint: str
    wrk: WrkResult
    server_cpu_s: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.wrk.requests * 1e6 if self.wrk.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "endpoint": self.endpoint,
            "requests": self.wrk.requests,
            "duration_s": round(self.wrk.duration_s, 3),
            "rps": round(self.wrk.rps, 1),
            "p50_ms": self.wrk.p50_ms,
            "p99_ms": self.wrk.p99_ms,
            "errors": asdict(self.wrk)["errors"],
            "server_cpu_s": round(self.server_cpu_s, 3),
            "cpu_us_per_request": round(self.cpu_us_per_request, 2),
        }


def check_answer(server: Server, endpoint: Endpoint) -> None:
    """Fail loudly before measuring a server that answers wrongly (a fast 404 proves nothing)."""
    req = urllib.request.Request(
        server.url(endpoint.path),
        data=endpoint.body if endpoint.body_size else None,
        method=endpoint.method,
        headers={"Content-Type": "application/octet-stream"} if endpoint.body_size else {},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        status, body = resp.status, resp.read()
    if status != 200 or body != endpoint.expected():
        raise RuntimeError(
            f"{server.framework} {endpoint.name}: status {status}, body {body[:80]!r} "
            f"is not the expected answer"
        )


def measure(
    server: Server,
    endpoint: Endpoint,
    script: Path,
    *,
    duration: int,
    warmup: int,
    connections: int,
    wrk_cpu: int,
) -> Measurement:
    """Warm up, then measure ``endpoint`` on ``server``."""
    url = server.url(endpoint.path)
    check_answer(server, endpoint)
    if warmup > 0:
        run_wrk(url, script, duration=warmup, connections=connections, cpu=wrk_cpu)
    before = cpu_seconds(server.pid)
    result = run_wrk(url, script, duration=duration, connections=connections, cpu=wrk_cpu)
    after = cpu_seconds(server.pid)
    if not server.alive():
        raise RuntimeError(f"{server.framework} server died during {endpoint.name}")
    return Measurement(server.framework, endpoint.name, result, after - before)
