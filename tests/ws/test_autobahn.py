"""Autobahn TestSuite conformance (cases 1-10, driven by ``kosoku``) on both sides.

The compression groups 12 and 13 take minutes; ``make conformance`` runs the whole suite.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.helpers import serve
from tests.ws import autobahn_client, echo_server

GROUPS = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"]
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def kosoku() -> str:
    local = Path(sys.executable).parent / "kosoku"
    if local.exists():
        return str(local)
    return require_tool("kosoku") if shutil.which("kosoku") is None else "kosoku"


def outcomes(report_dir: Path) -> collections.Counter[str]:
    index = json.loads((report_dir / "index.json").read_text())
    counts: collections.Counter[str] = collections.Counter()
    for cases in index.values():
        for case in cases.values():
            counts[case["behavior"]] += 1
            counts["close:" + case["behaviorClose"]] += 1
    return counts


def check(counts: collections.Counter[str]) -> None:
    behaviours = {k for k in counts if not k.startswith("close:")}
    closes = {k[6:] for k in counts if k.startswith("close:")}
    assert behaviours <= PASSING, counts
    assert closes <= PASSING, counts
    assert sum(counts[k] for k in behaviours) == 301  # every case of groups 1-10 ran


def report_ready(report_dir: Path) -> bool:
    """Whether the fuzzing server finished writing its index (it may exist half-written)."""
    try:
        json.loads((report_dir / "index.json").read_text())
    except (OSError, ValueError):
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.skipif(os.environ.get("SURGE_SKIP_AUTOBAHN") == "1", reason="opted out")
async def test_server_passes_autobahn_groups_1_to_10(tmp_path: Path) -> None:
    tool = kosoku()
    async with serve(echo_server.make_app()) as base:
        address = base.removeprefix("http://")
        includes = [arg for group in GROUPS for arg in ("-i", group)]
        proc = await asyncio.create_subprocess_exec(
            tool,
            "-m",
            "fuzzingclient",
            *includes,
            "-p",
            "2",
            "-o",
            str(tmp_path),
            address,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(240):
                output, _ = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, output.decode(errors="replace")
    check(outcomes(tmp_path))


@pytest.mark.skipif(os.environ.get("SURGE_SKIP_AUTOBAHN") == "1", reason="opted out")
async def test_client_passes_autobahn_groups_1_to_10(tmp_path: Path) -> None:
    tool = kosoku()
    port = free_port()
    includes = [arg for group in GROUPS for arg in ("-i", group)]
    proc = await asyncio.create_subprocess_exec(
        tool,
        "-m",
        "fuzzingserver",
        *includes,
        "-o",
        str(tmp_path),
        f"127.0.0.1:{port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(240):
            while True:  # wait for the fuzzing server to listen
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
            count = await autobahn_client.run_all(f"ws://127.0.0.1:{port}")
            while not report_ready(tmp_path):
                await asyncio.sleep(0.05)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    assert count == 301
    check(outcomes(tmp_path))
