"""Server subprocesses: one per framework, pinned to a core, always reaped.

Each server is ``taskset -c CPU python -m bench.apps.serve FRAMEWORK``; taskset execs Python, so
the pid we hold is the server's own and /proc/PID/stat reads its CPU time. A server also dies with
the harness (PR_SET_PDEATHSIG) and after its own ``--max-seconds``, so none is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.lifetime import die_with_parent

REPO = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class Server:
    """A running benchmark server."""

    framework: str
    proc: subprocess.Popen[str]
    port: int
    module_file: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def alive(self) -> bool:
        return self.proc.poll() is None


def _wait_ready(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not sel.select(left):
                break
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                _, port, module_file = line.split(maxsplit=2)
                return int(port), module_file.strip()
    raise RuntimeError(f"server did not become ready within {timeout:.0f}s")


def stop(server: Server) -> None:
    """SIGTERM, then SIGKILL after a short grace period."""
    proc = server.proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def start(framework: str, *, cpu: int, surge_src: Path, max_seconds: float) -> Iterator[Server]:
    """Start the ``framework`` server pinned to ``cpu``; stop it on exit, errors included."""
    env = dict(os.environ)
    # The surge under test is the checkout's own src (or the one given), ahead of any install.
    env["PYTHONPATH"] = os.pathsep.join([str(surge_src), str(REPO)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [
        "taskset",
        "-c",
        str(cpu),
        sys.executable,
        "-m",
        "bench.apps.serve",
        framework,
        "--max-seconds",
        str(int(max_seconds)),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=None,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
        preexec_fn=die_with_parent,
    )
    server: Server | None = None
    try:
        try:
            port, module_file = _wait_ready(proc, timeout=20)
        except RuntimeError as exc:
            raise RuntimeError(f"{framework}: {exc}") from None
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
