"""The whole Autobahn suite (cases 1-13) on both sides: ``make conformance``.

Prints the outcome counts per side; exits non-zero if any case failed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.helpers import serve
from tests.ws import autobahn_client, echo_server
from tests.ws.test_autobahn import free_port, kosoku, outcomes, report_ready


async def server_side(out: Path) -> dict[str, int]:
    async with serve(echo_server.make_app()) as base:
        proc = await asyncio.create_subprocess_exec(
            kosoku(), "-m", "fuzzingclient", "-p", "2", "-o", str(out), base[7:]
        )
        await proc.wait()
    return dict(outcomes(out))


async def client_side(out: Path) -> dict[str, int]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        kosoku(), "-m", "fuzzingserver", "-o", str(out), f"127.0.0.1:{port}"
    )
    try:
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        await autobahn_client.run_all(f"ws://127.0.0.1:{port}")
        while not report_ready(out):
            await asyncio.sleep(0.1)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    return dict(outcomes(out))


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        server = await server_side(Path(tmp) / "server")
        client = await client_side(Path(tmp) / "client")
    print("surge server (fuzzingclient):", server)
    print("surge client (fuzzingserver):", client)
    return 1 if server.get("FAILED") or client.get("FAILED") else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
