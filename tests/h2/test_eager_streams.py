"""HTTP/2 handlers start in data_received under the name of an idle serving task of the
connection; the ones that wait are finished by that task, which leaves the pool. Every path
must look to a handler exactly like running in a task of its own (as aiohttp's do).

The requests of each test go out in one write, so they arrive in one read and start together.
"""

from __future__ import annotations

import asyncio
import contextvars

from h2.errors import ErrorCodes

from surge import web
from tests.h2.helpers import RawH2
from tests.helpers import serve

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="-")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _app(record: dict[str, list[object]]) -> web.Application:
    async def same_task(request: web.Request) -> web.Response:
        before = asyncio.current_task()
        await asyncio.sleep(0)
        after = asyncio.current_task()
        ok = isinstance(before, asyncio.Task) and before is after
        return web.Response(text="same" if ok else f"{before!r} {after!r}")

    async def is_task(request: web.Request) -> web.Response:
        return web.Response(text=str(isinstance(asyncio.current_task(), asyncio.Task)))

    async def sync_timeout(request: web.Request) -> web.Response:
        async with asyncio.timeout(5):
            return web.Response(text="in time")

    async def expires(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(5)
        except TimeoutError:
            return web.Response(text="timed out", status=504)
        return web.Response(text="no")

    async def expires_at_once(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(0):
                await asyncio.sleep(5)
        except TimeoutError:
            return web.Response(text="timed out at once", status=504)
        return web.Response(text="no")

    async def expires_after_wait(request: web.Request) -> web.Response:
        await asyncio.sleep(0.01)
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(5)
        except TimeoutError:
            return web.Response(text="timed out later", status=504)
        return web.Response(text="no")

    async def waits(request: web.Request) -> web.Response:
        await asyncio.sleep(0.02)
        return web.Response(text=f"waited {request.query.get('n', '')}")

    async def fails(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    async def set_var(request: web.Request) -> web.Response:
        before = seen.get()
        seen.set(request.query["v"])
        return web.Response(text=before)

    async def set_var_after_waiting(request: web.Request) -> web.Response:
        seen.set(request.query["v"])
        await asyncio.sleep(0.01)
        return web.Response(text=seen.get())

    async def held(request: web.Request) -> web.Response:
        # Waits until released; records its task while waiting.
        record["held"].append(asyncio.current_task())
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            record["cancelled"].append(request.query.get("n"))
            raise
        return web.Response(text="not cancelled")

    async def cancels_itself_then_waits(request: web.Request) -> web.Response:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return web.Response(text="cancelled where it waited")
        return web.Response(text="no")

    async def cancels_itself(request: web.Request) -> web.Response:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        return web.Response(text="answered anyway")

    app = web.Application()
    for path, handler in [
        ("/same-task", same_task),
        ("/is-task", is_task),
        ("/sync-timeout", sync_timeout),
        ("/expires", expires),
        ("/expires-after-wait", expires_after_wait),
        ("/expires-at-once", expires_at_once),
        ("/waits", waits),
        ("/fails", fails),
        ("/var", set_var),
        ("/var-wait", set_var_after_waiting),
        ("/held", held),
        ("/cancels-itself-then-waits", cancels_itself_then_waits),
        ("/cancels-itself", cancels_itself),
    ]:
        app.router.add_get(path, handler)
    return app


async def _batch(peer: RawH2, paths: list[str]) -> list[tuple[int, bytes]]:
    sids = [peer.request(path) for path in paths]
    peer.flush()  # all in one write
    return [await peer.response(sid) for sid in sids]


async def test_current_task_is_a_task_and_stable_across_a_wait() -> None:
    async with serve(_app({})) as url:
        peer = await RawH2.open(_port(url))
        for _ in range(3):
            answers = await _batch(peer, ["/is-task", "/same-task", "/is-task", "/same-task"])
            assert answers == [(200, b"True"), (200, b"same"), (200, b"True"), (200, b"same")]
        peer.close()


async def test_concurrently_waiting_handlers_have_tasks_of_their_own() -> None:
    record: dict[str, list[object]] = {"held": [], "cancelled": []}
    async with serve(_app(record), handler_cancellation=True) as url:
        peer = await RawH2.open(_port(url))
        sids = [peer.request(f"/held?n={n}") for n in range(4)]
        peer.flush()
        async with asyncio.timeout(5):
            while len(record["held"]) < 4:
                await asyncio.sleep(0.01)
        tasks = record["held"]
        assert all(isinstance(task, asyncio.Task) for task in tasks)
        assert len({id(task) for task in tasks}) == 4
        # A reset cancels the handler of that stream alone.
        peer.conn.reset_stream(sids[1], ErrorCodes.CANCEL)
        peer.flush()
        async with asyncio.timeout(5):
            while not record["cancelled"]:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert record["cancelled"] == ["1"]
        # The connection goes on serving, eager and waiting handlers alike.
        answers = await _batch(peer, ["/waits?n=5", "/sync-timeout", "/same-task"])
        assert answers == [(200, b"waited 5"), (200, b"in time"), (200, b"same")]
        peer.close()


async def test_timeouts_before_and_after_a_wait() -> None:
    async with serve(_app({})) as url:
        peer = await RawH2.open(_port(url))
        # The first stream of a connection runs under a serving task that has not run yet.
        paths = [
            "/expires-at-once",
            "/sync-timeout",
            "/expires",
            "/expires-after-wait",
            "/sync-timeout",
            "/expires",
        ]
        answers = await _batch(peer, paths)
        assert answers == [
            (504, b"timed out at once"),
            (200, b"in time"),
            (504, b"timed out"),
            (504, b"timed out later"),
            (200, b"in time"),
            (504, b"timed out"),
        ]
        # Again on the same connection: the serving tasks came back to the pool unharmed.
        assert await _batch(peer, paths) == answers
        peer.close()


async def test_context_variables_do_not_leak_between_streams() -> None:
    async with serve(_app({})) as url:
        peer = await RawH2.open(_port(url))
        paths = ["/var?v=a", "/var-wait?v=w", "/var?v=b", "/var-wait?v=x", "/var?v=c"]
        answers = await _batch(peer, paths)
        assert answers == [(200, b"-"), (200, b"w"), (200, b"-"), (200, b"x"), (200, b"-")]
        answers = await _batch(peer, ["/var?v=d", "/var?v=e"])
        assert answers == [(200, b"-"), (200, b"-")]
        peer.close()
    assert seen.get() == "-"


async def test_waiting_non_waiting_and_failing_handlers_mixed() -> None:
    async with serve(_app({})) as url:
        peer = await RawH2.open(_port(url))
        paths = [
            "/waits?n=1",
            "/sync-timeout",
            "/fails",
            "/waits?n=2",
            "/is-task",
            "/fails",
            "/waits?n=3",
        ]
        for _ in range(2):
            answers = await _batch(peer, paths)
            assert [status for status, _ in answers] == [200, 200, 500, 200, 200, 500, 200]
            assert answers[0][1] == b"waited 1"
            assert answers[1][1] == b"in time"
            assert answers[3][1] == b"waited 2"
            assert answers[4][1] == b"True"
            assert answers[6][1] == b"waited 3"
        peer.close()


async def test_handlers_that_cancel_their_own_task() -> None:
    async with serve(_app({})) as url:
        peer = await RawH2.open(_port(url))
        paths = ["/cancels-itself-then-waits", "/cancels-itself", "/same-task", "/waits?n=1"]
        for _ in range(2):
            answers = await _batch(peer, paths)
            assert answers == [
                (200, b"cancelled where it waited"),
                (200, b"answered anyway"),
                (200, b"same"),
                (200, b"waited 1"),
            ]
        peer.close()
