"""The surge client against a fuzzing server (Autobahn's getCaseCount/runCase/updateReports
loop): ``python -m tests.ws.autobahn_client ws://127.0.0.1:9001``."""

from __future__ import annotations

import asyncio
import sys

import surge

MAX_MSG_SIZE = 16 * 1024 * 1024
AGENT = "surge"


async def run_case(session: surge.ClientSession, base: str, case: int) -> None:
    url = f"{base}/runCase?case={case}&agent={AGENT}"
    try:
        async with session.ws_connect(url, max_msg_size=MAX_MSG_SIZE, compress=15) as ws:
            async for msg in ws:
                if msg.type == surge.WSMsgType.TEXT:
                    await ws.send_str(msg.data)
                elif msg.type == surge.WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
    except (surge.ClientError, ConnectionError):
        pass


async def run_all(base: str) -> int:
    async with surge.ClientSession() as session:
        async with session.ws_connect(f"{base}/getCaseCount") as ws:
            count = int(await ws.receive_str())
        for case in range(1, count + 1):
            await run_case(session, base, case)
        async with session.ws_connect(f"{base}/updateReports?agent={AGENT}") as ws:
            await ws.receive()
    return count


if __name__ == "__main__":
    print(asyncio.run(run_all(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9001")))
