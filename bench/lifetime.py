"""Children that never outlive the harness, even when it is killed with SIGKILL."""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for subprocess: the child gets SIGKILL when the harness dies (Linux)."""
    # Runs between fork and exec, so it stays one libc call; the setting survives exec.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
