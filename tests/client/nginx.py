"""nginx (Debian's) as an independent server for client tests: own config in a temp dir, a
free loopback port, no root paths, ``daemon off``."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

from tests.conftest import require_tool

CONFIG = """
worker_processes 1;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests {keepalive_requests};
    keepalive_timeout {keepalive_timeout};
    server {{
        listen 127.0.0.1:{port};
        location = /conn {{ return 200 "$connection"; }}
        location = /echo {{ return 200 "$request_method $request_uri"; }}
        location / {{ return 200 "hello from nginx"; }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def nginx(*, keepalive_requests: int = 1000, keepalive_timeout: str = "60s") -> Iterator[str]:
    """Run nginx; yields its base URL."""
    binary = require_tool("nginx")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # workers may run as an unprivileged user
        port = _free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(
                CONFIG.format(
                    dir=tmp,
                    port=port,
                    keepalive_requests=keepalive_requests,
                    keepalive_timeout=keepalive_timeout,
                )
            )
        proc = subprocess.Popen(
            [binary, "-c", conf, "-p", tmp, "-e", os.path.join(tmp, "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"nginx did not start: {err}")
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()
