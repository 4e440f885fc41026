"""Servers in subprocesses for the running tests: start, find the port they print, stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

SRC = str(Path(__file__).resolve().parents[3] / "src")
ROOT = str(Path(__file__).resolve().parents[3])
_RUNNING = re.compile(r"Running on (https?)://([^:\s]+):(\d+)")


class ServerProcess:
    """A server process whose output is collected in the background."""

    def __init__(self, args: Sequence[str], *, cwd: str | os.PathLike[str], env: dict[str, str]):
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **env)
        full_env["PYTHONPATH"] = os.pathsep.join([SRC, ROOT, str(cwd)])
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_port(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _RUNNING.search(self.output)
            if match:
                return int(match.group(3))
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"server did not start:\n{self.output}")

    def wait_ready(self, url: str, timeout: float = 10.0, **kwargs: object) -> httpx.Response:
        """Poll ``url`` until the server answers (workers may still be starting)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return httpx.get(url, timeout=2.0, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError(f"server not answering:\n{self.output}") from None
                time.sleep(0.05)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 15.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(2)
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(2)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def server_process(
    args: Sequence[str], *, cwd: str | os.PathLike[str], env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    server = ServerProcess(args, cwd=cwd, env=env or {})
    try:
        yield server
    finally:
        server.stop()


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False
