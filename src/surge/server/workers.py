"""Pre-fork worker processes: N children serve the same port; the parent supervises.

Invariants:
- The parent never runs an event loop; it only forks, reaps, restarts and forwards signals.
- Each worker sits in its own process group, so a terminal's Ctrl+C reaches the parent alone
  and every worker gets exactly one stop signal (forwarded by the parent).
- A worker whose parent disappears (SIGKILL) stops itself gracefully.
- SIGTERM or SIGINT to the parent stops all workers gracefully; the parent exits 0 when every
  worker did.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable

__all__ = ["Supervisor", "watch_parent"]

logger = logging.getLogger("surge.server")

_POLL = 0.1
_QUICK_EXIT = 1.0  # a worker dying sooner than this after its start counts as a crash loop


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Send ourselves SIGTERM (a graceful stop) once ``parent_pid`` is no longer our parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="surge-parent-watch", daemon=True).start()


class Supervisor:
    """Fork ``workers`` processes running ``serve()``; restart any that dies; stop on a signal.

    ``serve`` runs in the child after the fork and should block until the worker is told to
    stop (``run_app`` does). ``run()`` returns the parent's exit status.
    """

    def __init__(
        self,
        serve: Callable[[], None],
        workers: int,
        *,
        shutdown_timeout: float = 60.0,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self._serve = serve
        self._count = workers
        self._shutdown_timeout = shutdown_timeout
        self._workers: dict[int, float] = {}  # pid -> start time
        self._stop_signal: int | None = None
        self._failed = False
        self._quick_exits = 0

    @property
    def pids(self) -> list[int]:
        return list(self._workers)

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for _ in range(self._count):
                self._spawn()
            while self._stop_signal is None:
                self._reap(restart=True)
                time.sleep(_POLL)
            self._stop_all(self._stop_signal)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 1 if self._failed else 0

    def _on_signal(self, signum: int, frame: object) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum
        else:  # a second signal: stop waiting for a graceful end
            for pid in self._workers:
                _kill(pid, signal.SIGKILL)

    def _spawn(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported through its exit code
            os._exit(self._child(parent))
        self._workers[pid] = time.monotonic()
        logger.info("Started worker %d", pid)

    def _child(self, parent: int) -> int:
        os.setpgid(0, 0)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        watch_parent(parent)
        code = 0
        try:
            self._serve()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return code

    def _reap(self, *, restart: bool) -> None:
        while self._workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self._workers.clear()
                return
            if pid == 0:
                return
            started = self._workers.pop(pid, None)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if restart and self._stop_signal is None:
                logger.warning("Worker %d exited with %d; starting a new one", pid, code)
                if time.monotonic() - started < _QUICK_EXIT:
                    self._quick_exits += 1
                    time.sleep(min(0.1 * 2**self._quick_exits, 5.0))
                else:
                    self._quick_exits = 0
                self._spawn()
            elif code != 0:
                self._failed = True

    def _stop_all(self, signum: int) -> None:
        for pid in self._workers:
            _kill(pid, signum)
        deadline = time.monotonic() + self._shutdown_timeout + 5.0
        while self._workers and time.monotonic() < deadline:
            self._reap(restart=False)
            time.sleep(_POLL / 2)
        for pid in list(self._workers):
            logger.warning("Worker %d did not stop in time; killing it", pid)
            _kill(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self._failed = True
        self._workers.clear()


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
