"""The HTTP/2 benchmark harness runs end to end (one quick surge measurement with h2load)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool

REPO = Path(__file__).resolve().parent.parent.parent


def test_bench_h2_quick_surge(tmp_path: Path) -> None:
    require_tool("h2load")
    require_tool("taskset")
    out = tmp_path / "h2.json"
    cmd = [sys.executable, "-m", "bench.h2", "--quick", "--frameworks", "surge"]
    cmd += ["--clients", "2", "--streams", "4", "--output", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    assert {(r["protocol"], r["endpoint"]) for r in results} == {
        ("h2", "plaintext"),
        ("h2", "json"),
        ("h1", "plaintext"),
        ("h1", "json"),
    }
    assert all(r["succeeded"] > 0 and r["failed"] == 0 for r in results)
