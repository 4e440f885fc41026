"""Test loops and free ports."""

from __future__ import annotations

import asyncio
import socket

from surge.test_utils import loop_context, setup_test_loop, teardown_test_loop, unused_port


def test_loop_context_runs_and_closes() -> None:
    with loop_context() as loop:
        assert asyncio.get_event_loop() is loop

        async def answer() -> int:
            await asyncio.sleep(0)
            return 42

        assert loop.run_until_complete(answer()) == 42
    assert loop.is_closed()


def test_teardown_cancels_leftover_tasks() -> None:
    loop = setup_test_loop()
    cancelled: list[bool] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    task = loop.create_task(forever())
    loop.run_until_complete(asyncio.sleep(0))
    teardown_test_loop(loop)
    assert task.cancelled() and cancelled == [True]
    assert loop.is_closed()


def test_unused_port_is_bindable() -> None:
    port = unused_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
