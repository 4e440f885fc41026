"""Static file and upload throughput: surge vs aiohttp vs nginx, in one run.

    python -m bench.static [--duration 5] [--connections 16] [--upload-mib 1024]

Serves a 4 KiB, a 1 MiB and a 100 MiB file from a temporary directory (add_static in surge and
aiohttp, a minimal nginx config), measures requests/s and MB/s with wrk (server on core 0, wrk
on core 1), then streams an upload into the spec's ``request.content.read(1 MiB)`` handler and
reports MB/s and the server's peak RSS (VmHWM). nginx takes no upload part.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.procstat import cpu_seconds

SIZES = {"4k": 4096, "1m": 1 << 20, "100m": 100 << 20}

APP = """
import sys, uvloop
fw, root, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if fw == "surge":
    from surge import web
else:
    from aiohttp import web
async def upload(request):
    reader = request.content
    with open(root + "/../uploaded.file", "wb") as f:
        while True:
            chunk = await reader.read(1024 * 1024)
            if not chunk:
                break
            f.write(chunk)
    return web.Response(text="Uploaded")
app = web.Application(client_max_size=1 << 40)
app.router.add_static("/static/", root)
app.router.add_post("/upload", upload)
uvloop.install()
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
"""

NGINX = """
worker_processes 1; daemon off; master_process off; pid {dir}/nginx.pid; error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; client_body_temp_path {dir};
  proxy_temp_path {dir}; fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};
  server {{ listen 127.0.0.1:{port}; location /static/ {{ alias {root}/; }} }} }}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def _start(fw: str, root: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    if fw == "nginx":
        conf = work / "nginx.conf"
        conf.write_text(NGINX.format(dir=work, port=port, root=root))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        cmd = ["taskset", "-c", "0", nginx, "-c", str(conf), "-p", str(work)]
    else:
        script = work / "app.py"
        script.write_text(APP)
        cmd = ["taskset", "-c", "0", sys.executable, str(script), fw, str(root), str(port)]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.Popen(cmd, env=env)
    _wait(port)
    return proc, port


def _wrk(
    port: int, pid: int, name: str, duration: int, connections: int
) -> tuple[float, float, float]:
    """req/s, MB/s and the server's CPU µs per request (utime+stime over the wrk run)."""
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            f"http://127.0.0.1:{port}/static/{name}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(pid) - cpu0
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    assert transfer is not None
    scale = {"B": 1e-6, "KB": 1e-3 * 1.024, "MB": 1.048576, "GB": 1073.741824}[transfer.group(2)]
    return rps, float(transfer.group(1)) * scale, cpu / max(done, 1) * 1e6


def _upload(port: int, pid: int, mib: int) -> tuple[float, float]:
    block = os.urandom(1 << 20)

    def body():  # type: ignore[no-untyped-def]
        for _ in range(mib):
            yield block

    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/upload",
        data=body(),
        method="POST",
        headers={"Content-Length": str(mib << 20)},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(req) as resp:
        assert resp.read() == b"Uploaded"
    elapsed = time.perf_counter() - start
    status = Path(f"/proc/{pid}/status").read_text()
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    return mib * 1.048576 / elapsed, hwm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--upload-mib", type=int, default=1024)
    parser.add_argument("--frameworks", default="surge,aiohttp,nginx")
    parser.add_argument("--files", default=",".join(SIZES), help="which of 4k,1m,100m")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "root"
        root.mkdir()
        for name, size in SIZES.items():
            with (root / name).open("wb") as f:
                f.write(os.urandom(min(size, 1 << 20)) * max(1, size >> 20))
        print(f"{'server':8} {'file':5} {'req/s':>10} {'MB/s':>10} {'CPU us/req':>11}")
        for fw in args.frameworks.split(","):
            proc, port = _start(fw, root, work)
            try:
                for name in args.files.split(","):
                    rps, mbs, cpu = _wrk(port, proc.pid, name, args.duration, args.connections)
                    print(f"{fw:8} {name:5} {rps:10.0f} {mbs:10.1f} {cpu:11.1f}", flush=True)
                if fw != "nginx" and args.upload_mib:
                    speed, hwm = _upload(port, proc.pid, args.upload_mib)
                    print(
                        f"{fw:8} upload {args.upload_mib} MiB: {speed:.0f} MB/s, "
                        f"peak RSS {hwm:.0f} MiB",
                        flush=True,
                    )
            finally:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
