"""``web.run_app`` in a subprocess: the printed line, hosts, Unix paths, sockets, coroutines."""

from __future__ import annotations

import re
import signal
import textwrap
from pathlib import Path

import httpx

from tests.server.running.procs import server_process

HEADER = textwrap.dedent(
    """
    import os, socket, sys
    from surge import web

    async def hello(request):
        return web.Response(text="hello " + request.app["name"])

    def make_app(name="sync"):
        app = web.Application()
        app["name"] = name
        app.router.add_get("/", hello)
        return app

    async def make_app_async():
        return make_app("async")
    """
)


def write_app(tmp_path: Path, body: str) -> None:
    (tmp_path / "app.py").write_text(HEADER + textwrap.dedent(body))


def test_prints_aiohttp_running_line_and_serves(tmp_path: Path) -> None:
    write_app(tmp_path, 'web.run_app(make_app(), host="127.0.0.1", port=0)\n')
    with server_process(["app.py"], cwd=tmp_path) as server:
        port = server.wait_for_port()
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello sync"
        assert re.search(
            rf"^======== Running on http://127\.0\.0\.1:{port} ========\n"
            r"\(Press CTRL\+C to quit\)$",
            server.output,
            re.M,
        ), server.output
        server.signal(signal.SIGINT)
        assert server.wait() == 0


def test_coroutine_app_several_hosts_and_custom_print(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        """
        def shout(text):
            print("CUSTOM: " + text, flush=True)

        web.run_app(
            make_app_async(), host=["127.0.0.1", "127.0.0.2"], port=0, print=shout,
            access_log=None, keepalive_timeout=5, shutdown_timeout=2, reuse_address=True,
        )
        """,
    )
    with server_process(["app.py"], cwd=tmp_path) as server:
        server.wait_for_port()
        line = next(x for x in server.lines if x.startswith("CUSTOM: "))
        urls = re.findall(r"http://[\d.]+:\d+", line)
        assert sorted(u.split(":")[1] for u in urls) == ["//127.0.0.1", "//127.0.0.2"]
        for url in urls:
            assert httpx.get(url + "/").text == "hello async"
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


def test_unix_path_and_premade_socket(tmp_path: Path) -> None:
    write_app(
        tmp_path,
        """
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        print("SOCK PORT", sock.getsockname()[1], flush=True)
        web.run_app(make_app(), path=sys.argv[1], sock=sock, print=print)
        """,
    )
    path = tmp_path / "s.sock"
    with server_process(["app.py", str(path)], cwd=tmp_path) as server:
        server.wait_for_port()
        port = int(re.search(r"SOCK PORT (\d+)", server.output)[1])  # type: ignore[index]
        assert f"http://unix:{path}:" in server.output
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello sync"
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport) as client:
            assert client.get("http://localhost/").text == "hello sync"
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


def test_non_application_is_a_type_error(tmp_path: Path) -> None:
    write_app(tmp_path, "web.run_app(object(), port=0)\n")
    with server_process(["app.py"], cwd=tmp_path) as server:
        assert server.wait() != 0
        assert "TypeError" in server.output
