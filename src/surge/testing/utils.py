"""Event loops and ports for tests: ``loop_context``, ``setup_test_loop``, ``unused_port``.

A test loop is fresh per test and fully torn down afterwards (tasks cancelled, async generators
and the default executor shut down), as ``asyncio.run`` would do, so nothing leaks between tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import Callable, Iterator

__all__ = [
    "get_port_socket",
    "loop_context",
    "setup_test_loop",
    "teardown_test_loop",
    "unused_port",
]

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def get_port_socket(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
    """A bound (not yet listening) TCP socket on ``host:port``; port 0 picks a free one."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def unused_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup_test_loop(
    loop_factory: LoopFactory = asyncio.new_event_loop,
) -> asyncio.AbstractEventLoop:
    """Create a loop with ``loop_factory`` and make it the current one."""
    loop = loop_factory()
    asyncio.set_event_loop(loop)
    return loop


def teardown_test_loop(loop: asyncio.AbstractEventLoop, fast: bool = False) -> None:
    """Cancel what is left on ``loop``, shut it down and close it; ``fast`` skips ``gc``."""
    if not loop.is_closed():
        try:
            _cancel_all_tasks(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
    if not fast:
        # Collect now, while the test is still the one being reported, so a resource
        # warning from an object this test leaked is attributed to it.
        gc.collect()
    asyncio.set_event_loop(None)


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during test loop teardown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


@contextlib.contextmanager
def loop_context(
    loop_factory: LoopFactory = asyncio.new_event_loop, fast: bool = False
) -> Iterator[asyncio.AbstractEventLoop]:
    """``with loop_context() as loop:`` a fresh current loop, torn down on exit."""
    loop = setup_test_loop(loop_factory)
    try:
        yield loop
    finally:
        teardown_test_loop(loop, fast=fast)
