"""Graceful shutdown of ``run_app`` on SIGTERM/SIGINT, in a subprocess per test.

aiohttp's documented order: stop the sites (new connections refused), close idle keep-alive
connections, on_shutdown, wait for running handlers up to ``shutdown_timeout``, cancel what is
left, on_cleanup; then the process exits 0.
"""

from __future__ import annotations

import signal
import socket
import textwrap
import threading
from pathlib import Path

import httpx
import pytest

from tests.server.running.procs import server_process, wait_until

APP = textwrap.dedent(
    """
    import asyncio, os, sys
    from surge import web

    def note(event):
        with open(os.environ["MARKER"], "a") as f:
            f.write(event + "\\n")

    async def slow(request):
        note("handler-start")
        try:
            await asyncio.sleep(float(request.query.get("t", "1")))
        except asyncio.CancelledError:
            note("handler-cancelled")
            raise
        note("handler-end")
        return web.Response(text="slow done")

    async def fast(request):
        return web.Response(text="fast")

    async def on_shutdown(app):
        note("on_shutdown")

    async def on_cleanup(app):
        note("on_cleanup")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/", fast)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    web.run_app(app, host="127.0.0.1", port=0, shutdown_timeout=float(sys.argv[1]))
    note("exited-run-app")
    """
)

LOOPS = [pytest.param({}, id="uvloop"), pytest.param({"SURGE_NO_UVLOOP": "1"}, id="asyncio")]


def events(marker: Path) -> list[str]:
    return marker.read_text().split() if marker.exists() else []


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize("env", LOOPS)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_lets_inflight_request_finish(
    tmp_path: Path, signum: signal.Signals, env: dict[str, str]
) -> None:
    (tmp_path / "app.py").write_text(APP)
    marker = tmp_path / "events"
    with server_process(
        ["app.py", "5"], cwd=tmp_path, env={"MARKER": str(marker), **env}
    ) as server:
        port = server.wait_for_port()
        # An idle keep-alive connection: it must be closed by the shutdown.
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)
        idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")

        result: dict[str, httpx.Response] = {}
        client = threading.Thread(
            target=lambda: result.setdefault(
                "r", httpx.get(f"http://127.0.0.1:{port}/slow?t=1", timeout=10)
            )
        )
        client.start()
        assert wait_until(lambda: "handler-start" in events(marker))
        server.signal(signum)

        assert wait_until(lambda: "on_shutdown" in events(marker))
        assert refused(port)  # listeners are closed before on_shutdown runs
        assert idle.recv(4096) == b""  # the idle keep-alive connection was closed
        idle.close()

        client.join(10)
        response = result["r"]
        assert response.status_code == 200
        assert response.text == "slow done"
        assert response.headers["Connection"] == "close"
        assert server.wait() == 0, server.output
    assert events(marker) == [
        "handler-start",
        "on_shutdown",
        "handler-end",
        "on_cleanup",
        "exited-run-app",
    ]


@pytest.mark.parametrize("env", LOOPS)
def test_request_past_shutdown_timeout_is_cut_off(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "app.py").write_text(APP)
    marker = tmp_path / "events"
    with server_process(
        ["app.py", "0.3"], cwd=tmp_path, env={"MARKER": str(marker), **env}
    ) as server:
        port = server.wait_for_port()
        errors: list[BaseException] = []

        def request() -> None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/slow?t=30", timeout=20)
            except httpx.HTTPError as exc:
                errors.append(exc)

        client = threading.Thread(target=request)
        client.start()
        assert wait_until(lambda: "handler-start" in events(marker))
        server.signal(signal.SIGTERM)
        client.join(15)
        assert not client.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], httpx.TransportError)
        assert server.wait() == 0, server.output
    assert events(marker) == [
        "handler-start",
        "on_shutdown",
        "handler-cancelled",
        "on_cleanup",
        "exited-run-app",
    ]
