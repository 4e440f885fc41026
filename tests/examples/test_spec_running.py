"""The spec's run_app examples, each run as a script under ``python -m surge.compat.alias``,
checked with httpx and stopped with SIGINT.

The examples listen on aiohttp's default port 8080; the tests substitute free ports (other
suites on the machine may hold 8080), nothing else.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).parent / "spec"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Script:
    """A spec example running in a child process with the alias active; its stdout, by line."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        full_env = {
            **os.environ,
            **env,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "PYTHONUNBUFFERED": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "surge.compat.alias", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def lines_until(self, last: str) -> list[str]:
        """Stdout lines up to and including ``last`` (the server is listening after it)."""
        out: list[str] = []
        while True:
            line = self._lines.get(timeout=30)
            assert line is not None, f"script ended early: {out}"
            out.append(line)
            if line == last:
                return out

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def finish(self) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err


@pytest.fixture
def script_runner(tmp_path: Path) -> Iterator[list[Script]]:
    started: list[Script] = []
    yield started
    for script in started:
        if script.proc.poll() is None:
            script.proc.kill()
            script.proc.communicate()


def prepare(tmp_path: Path, name: str, replace: dict[str, str]) -> Path:
    source = (SPEC / f"{name}.py").read_text()
    for old, new in replace.items():
        assert old in source, old
        source = source.replace(old, new)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return path


QUIT = "(Press CTRL+C to quit)"


def test_running_server_three_ways(tmp_path: Path, script_runner: list[Script]) -> None:
    ca = trustme.CA()
    chain = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(chain))
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    basic, configured, from_coro = free_port(), free_port(), free_port()
    path = prepare(
        tmp_path,
        "running_server",
        {
            "web.run_app(app)\n": f"web.run_app(app, port={basic})\n",
            "port=8080": f"port={configured}",
            "web.run_app(init_app())": f"web.run_app(init_app(), port={from_coro})",
        },
    )
    script = Script(path, {"SPEC_CERT_CHAIN": str(chain)})
    script_runner.append(script)

    # Basic run: the default banner; the empty app answers 404.
    assert script.lines_until(QUIT) == [
        f"======== Running on http://0.0.0.0:{basic} ========",
        QUIT,
    ]
    assert httpx.get(f"http://127.0.0.1:{basic}/").status_code == 404
    script.interrupt()

    # With configuration: TLS with the given context, the stripped banner, the given logger.
    assert script.lines_until(QUIT) == [
        f"======== Running on https://0.0.0.0:{configured} ========",
        QUIT,
    ]
    r = httpx.get(f"https://127.0.0.1:{configured}/", verify=client_ctx)
    assert r.status_code == 404
    with pytest.raises(httpx.TransportError):  # plain HTTP is not spoken there
        httpx.get(f"http://127.0.0.1:{configured}/")
    script.interrupt()

    # From coroutine: run_app awaits init_app() for the application.
    assert script.lines_until(QUIT) == [
        f"======== Running on http://0.0.0.0:{from_coro} ========",
        QUIT,
    ]
    r = httpx.get(f"http://127.0.0.1:{from_coro}/")
    assert (r.status_code, r.text) == (200, "OK")
    script.interrupt()

    code, err = script.finish()
    assert code == 0, err
    access = [line for line in err.splitlines() if line.startswith("access: ")]
    assert len(access) == 1  # the configured run's request, through `logger`
    assert '"GET / HTTP/1.1" 404' in access[0]


def test_application_factory(tmp_path: Path, script_runner: list[Script]) -> None:
    port = free_port()
    path = prepare(tmp_path, "app_factory", {"web.run_app(app)": f"web.run_app(app, port={port})"})
    script = Script(path, {})
    script_runner.append(script)
    assert script.lines_until(QUIT)[-1] == QUIT
    r = httpx.get(f"http://127.0.0.1:{port}/api")
    assert (r.status_code, r.json()) == (200, {"db": "postgresql://localhost/app"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    script.interrupt()
    code, err = script.finish()
    assert code == 0, err
