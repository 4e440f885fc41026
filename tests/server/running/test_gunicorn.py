"""surge's gunicorn workers serving real requests (gunicorn in a subprocess)."""

from __future__ import annotations

import re
import signal
import textwrap
import time
from pathlib import Path

import pytest

from tests.server.running.procs import server_process

pytest.importorskip("gunicorn")

MODULE = textwrap.dedent(
    """
    import os
    from surge import web

    async def pid(request):
        return web.Response(text=str(os.getpid()), headers={"X-Kind": request.app["kind"]})

    def build(kind):
        app = web.Application()
        app["kind"] = kind
        app.router.add_get("/pid", pid)
        return app

    app = build("instance")

    async def make_app():
        return build("async-factory")
    """
)


def wait_listening(server: object, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", server.output)  # type: ignore[attr-defined]
        if match:
            return int(match[1])
        time.sleep(0.05)
    raise AssertionError(server.output)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("worker", "target", "kind"),
    [
        ("GunicornWebWorker", "myapp:app", "instance"),
        ("GunicornUVLoopWebWorker", "myapp:make_app", "async-factory"),
    ],
)
def test_gunicorn_worker_serves_and_stops(
    tmp_path: Path, worker: str, target: str, kind: str
) -> None:
    (tmp_path / "myapp.py").write_text(MODULE)
    args = [
        "-m", "gunicorn", target,
        "--worker-class", f"surge.server.worker.{worker}",
        "--bind", "127.0.0.1:0",
        "--workers", "1",
        "--no-control-socket",
        "--access-logfile", "-",
        "--access-logformat", '%a "%r" %s',
        "--graceful-timeout", "5",
    ]  # fmt: skip
    with server_process(args, cwd=tmp_path) as server:
        port = wait_listening(server)
        response = server.wait_ready(f"http://127.0.0.1:{port}/pid")
        assert response.status_code == 200
        assert response.headers["X-Kind"] == kind
        worker_pid = int(response.text)
        assert worker_pid != server.proc.pid
        server.signal(signal.SIGTERM)
        assert server.wait() == 0, server.output
    assert '127.0.0.1 "GET /pid HTTP/1.1" 200' in server.output
    assert "Traceback" not in server.output
    assert "Bad file descriptor" not in server.output


def test_gunicorn_style_log_format_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(MODULE)
    args = [
        "-m", "gunicorn", "myapp:app",
        "--worker-class", "surge.server.worker.GunicornWebWorker",
        "--bind", "127.0.0.1:0",
        "--no-control-socket",
        "--access-logfile", "-",
        "--access-logformat", "%(h)s %(r)s",
    ]  # fmt: skip
    with server_process(args, cwd=tmp_path) as server:
        assert server.wait(20) != 0
        assert "log format options are not supported" in server.output
