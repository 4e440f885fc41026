"""The HTTP/2 benchmark harness runs end to end (one quick surge measurement with h2load)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("peer", ["hypercorn", "granian"])
def test_bench_h2_quick_peer(tmp_path: Path, peer: str) -> None:
    """Each peer serves the same answers over HTTP/2 (curl checks them) and gets measured."""
    require_tool("h2load")
    require_tool("taskset")
    require_tool("curl")
    if importlib.util.find_spec(peer) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{peer} is required in CI but not installed")
        pytest.skip(f"{peer} not installed")
    out = tmp_path / "h2.json"
    cmd = [sys.executable, "-m", "bench.h2", "--quick", "--frameworks", peer]
    cmd += ["--clients", "2", "--streams", "4", "--output", str(out)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    assert {(r["framework"], r["protocol"], r["endpoint"]) for r in results} == {
        (peer, "h2", "plaintext"),
        (peer, "h2", "json"),
    }
    assert all(r["succeeded"] > 0 and r["cpu_us_per_req"] > 0 for r in results)
