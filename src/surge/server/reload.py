"""Restart-on-change for development: run the server in a child, restart it when a source changes.

Polls the modification times of ``.py`` files under a directory (no inotify dependency); the
child runs in its own session, so the terminal's Ctrl+C reaches only this parent, which stops
the child gracefully with SIGTERM.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence

__all__ = ["Reloader", "snapshot"]

logger = logging.getLogger("surge.server")

_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist"})


def _py_files(root: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        # Hidden directories (.git, .venv) and virtualenvs hold nothing the app's author edits.
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        ]
        for name in filenames:
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def snapshot(root: str) -> dict[str, float]:
    """Modification times of the ``.py`` files under ``root``."""
    times = {}
    for path in _py_files(root):
        try:
            times[path] = os.stat(path).st_mtime
        except OSError:
            pass
    return times


class Reloader:
    """Run ``command`` as a child process; restart it whenever a ``.py`` file under ``root``
    is added, removed or modified. SIGINT/SIGTERM stop the child and end ``run()`` with 0."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        root: str = ".",
        interval: float = 0.5,
        stop_timeout: float = 10.0,
    ) -> None:
        self._command = list(command)
        self._root = os.path.abspath(root)
        self._interval = interval
        self._stop_timeout = stop_timeout
        self._stopping = False
        self._child: subprocess.Popen[bytes] | None = None

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            mtimes = snapshot(self._root)
            self._start()
            while not self._stopping:
                time.sleep(self._interval)
                current = snapshot(self._root)
                if current != mtimes:
                    changed = sorted(set(current.items()) ^ set(mtimes.items()))
                    logger.warning("Detected a change in %s; reloading", changed[0][0])
                    mtimes = current
                    self._stop_child()
                    if not self._stopping:
                        self._start()
            self._stop_child()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _start(self) -> None:
        env = dict(os.environ, SURGE_PARENT_PID=str(os.getpid()))
        self._child = subprocess.Popen(self._command, env=env, start_new_session=True)

    def _stop_child(self) -> None:
        child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(self._stop_timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
