"""The benchmark harness runs end to end: one quick surge measurement with real wrk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool

REPO = Path(__file__).resolve().parent.parent


def test_bench_quick_plaintext_surge(tmp_path: Path) -> None:
    require_tool("wrk")
    require_tool("taskset")
    out = tmp_path / "result.json"
    cmd = [
        sys.executable,
        "-m",
        "bench.server",
        "--quick",
        "--warmup",
        "0",
        "--connections",
        "8",
        "--only",
        "plaintext",
        "--frameworks",
        "surge",
        "--output",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(out.read_text())
    [result] = record["results"]
    assert result["framework"] == "surge"
    assert result["endpoint"] == "plaintext"
    assert result["requests"] > 0
    assert result["rps"] > 0
    assert result["cpu_us_per_request"] > 0
    assert sum(result["errors"].values()) == 0
    # The surge measured is this checkout's, not whatever is installed.
    assert record["module_files"]["surge"] == str(REPO / "src" / "surge" / "__init__.py")
    assert "plaintext" in proc.stdout


def test_h1_cost_harness_answers_every_request_on_both_frameworks() -> None:
    # The in-process harness behind `python -m bench.h1_cost` (callgrind counts its runs):
    # each request must be answered with the app's one write, on surge and on aiohttp.
    for framework in ("surge", "aiohttp"):
        for endpoint in ("plaintext", "routing", "echo-1k"):
            cmd = [sys.executable, "-m", "bench.h1_cost", "--run", framework, endpoint, "50"]
            proc = subprocess.run(
                cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
            )
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == f"{framework} {endpoint}: 50 requests, 250 writes"
