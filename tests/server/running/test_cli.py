"""The command line: ``python -m surge.web`` and ``surge run`` (workers, reload), in subprocesses."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.server.running.procs import pid_alive, server_process, wait_until

MODULE = textwrap.dedent(
    """
    import os
    from surge import web

    VERSION = "v1"

    async def pid(request):
        return web.Response(text=str(os.getpid()))

    async def show_argv(request):
        return web.json_response(request.app["argv"])

    async def version(request):
        return web.Response(text=VERSION)

    def build(argv=()):
        app = web.Application()
        app["argv"] = list(argv)
        app.router.add_get("/pid", pid)
        app.router.add_get("/argv", show_argv)
        app.router.add_get("/version", version)
        return app

    def init_func(argv):
        return build(argv)

    async def async_factory():
        return build(["async"])

    def factory():
        return build(["factory"])

    app = build(["instance"])
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "myapp.py").write_text(MODULE)
    return tmp_path


def test_python_m_surge_web_passes_extra_argv(project: Path) -> None:
    args = ["-m", "surge.web", "-H", "127.0.0.1", "-P", "0", "myapp:init_func", "--flag", "x"]
    with server_process(args, cwd=project) as server:
        port = server.wait_for_port()
        assert httpx.get(f"http://127.0.0.1:{port}/argv").json() == ["--flag", "x"]
        server.signal(signal.SIGINT)
        assert server.wait() == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [("myapp", "module:"), ("nosuchmodule:x", "unable to import"), ("myapp:nope", "no attribute")],
)
def test_python_m_surge_web_bad_entry(project: Path, spec: str, message: str) -> None:
    with server_process(["-m", "surge.web", spec], cwd=project) as server:
        assert server.wait() == 2
        assert message in server.output


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("myapp:app", ["instance"]),
        ("myapp:factory", ["factory"]),
        ("myapp:async_factory", ["async"]),
        ("myapp:init_func", ["extra"]),
    ],
)
def test_surge_run_serves_app_factory_or_coroutine(
    project: Path, target: str, expected: list[str]
) -> None:
    args = ["-m", "surge", "run", target, "--port", "0", "--no-access-log", "extra"]
    if target == "myapp:init_func":
        args.remove("--no-access-log")
    with server_process(args, cwd=project) as server:
        port = server.wait_for_port()
        assert httpx.get(f"http://127.0.0.1:{port}/argv").json() == expected
        server.signal(signal.SIGTERM)
        assert server.wait() == 0
    if target == "myapp:init_func":
        assert '"GET /argv HTTP/1.1" 200' in server.output  # the access log is on by default


def test_surge_run_bad_target_exits_2(project: Path) -> None:
    with server_process(["-m", "surge", "run", "myapp:VERSION"], cwd=project) as server:
        assert server.wait() == 2
        assert "neither an Application nor a callable" in server.output


def pids_seen(url: str, want: int, attempts: int = 200) -> set[int]:
    seen: set[int] = set()
    for _ in range(attempts):
        # A fresh connection each time, so the kernel may pick another worker.
        with httpx.Client() as client:
            seen.add(int(client.get(url, timeout=5).text))
        if len(seen) >= want:
            break
    return seen


def test_workers_share_the_port_restart_and_stop(project: Path) -> None:
    args = ["-m", "surge", "run", "myapp:app", "--port", "0", "--workers", "2", "--no-access-log"]
    with server_process(args, cwd=project) as server:
        port = server.wait_for_port()
        url = f"http://127.0.0.1:{port}/pid"
        server.wait_ready(url)
        first = pids_seen(url, 2)
        assert len(first) == 2, server.output
        assert server.proc.pid not in first

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: not pid_alive(victim))
        survivor = (first - {victim}).pop()

        def replaced() -> bool:
            try:
                seen = pids_seen(url, 2, attempts=20)
            except httpx.TransportError:
                return False
            return bool(seen - first)

        assert wait_until(replaced, timeout=15), server.output
        current = pids_seen(url, 2)
        assert victim not in current and survivor in current

        server.signal(signal.SIGTERM)
        assert server.wait() == 0, server.output
        workers = current | {survivor}
        assert wait_until(lambda: not any(pid_alive(p) for p in workers))


def test_reload_restarts_on_source_change(project: Path) -> None:
    args = ["-m", "surge", "run", "myapp:app", "--port", "0", "--reload", "--no-access-log"]
    with server_process(args, cwd=project) as server:
        port = server.wait_for_port()
        url = f"http://127.0.0.1:{port}/version"
        assert server.wait_ready(url).text == "v1"
        # The reloaded child binds a fresh free port (port 0), announced again.
        time.sleep(0.05)
        source = project / "myapp.py"
        source.write_text(MODULE.replace('VERSION = "v1"', 'VERSION = "v2"'))
        new_mtime = time.time() + 2
        os.utime(source, (new_mtime, new_mtime))

        def announced_twice() -> bool:
            return server.output.count("Running on") >= 2

        assert wait_until(announced_twice, timeout=15), server.output
        last = server.output[server.output.rindex("Running on") :]
        new_port = int(last.split(":")[2].split()[0])
        assert server.wait_ready(f"http://127.0.0.1:{new_port}/version").text == "v2"
        server.signal(signal.SIGTERM)
        assert server.wait() == 0, server.output
