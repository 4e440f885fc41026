"""The serving tasks of one HTTP/2 connection: how stream handlers are run.

Invariants:
- A handler starts in ``data_received`` under the name of an idle serving task of the
  connection (``asyncio.current_task()``); one that finishes without waiting costs no task
  and no loop iteration. One that waits is handed to that task, which leaves the idle pool
  until the handler is done: each waiting handler has a task of its own, as if it had been
  started with ``create_task``, so cancelling it (a timeout, a reset) reaches only it.
- Each stream runs in its own copy of the connection's context.
- At most ``_IDLE_MAX`` idle serving tasks are kept per connection.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from surge.server.protocol.handoff import Resume, coro_send

if TYPE_CHECKING:
    from surge.server.protocol.h2_stream import H2Stream
    from surge.server.server import Server

__all__ = ["StreamTasks"]

# Idle serving tasks kept per connection (tasks freed by waiting handlers come back to it).
_IDLE_MAX = 16


_DONE: Any = object()  # a handler started eagerly finished without waiting


class _FirstStep:
    """A bare yield: where a serving task's coroutine is left when primed (see _spawn)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


_FIRST_STEP = _FirstStep()


class _Worker:
    """A serving task of one connection, and the handler handed to it (see the module doc)."""

    __slots__ = ("job", "stream", "task", "waiter")

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.waiter: asyncio.Future[None] | None = None  # set while idle
        self.job: Resume | None = None
        self.stream: H2Stream | None = None


def _leave_pool(idle: list[_Worker], worker: _Worker) -> None:
    if idle and idle[-1] is worker:
        idle.pop()
    elif worker in idle:
        idle.remove(worker)


class StreamTasks:
    """The part of ``H2ServerProtocol`` that runs stream handlers (see the module doc)."""

    _loop: asyncio.AbstractEventLoop
    _server: Server
    transport: asyncio.Transport | None
    # The context each stream's own copy is made from, and the idle serving tasks.
    _context: contextvars.Context
    _idle: list[_Worker]

    if TYPE_CHECKING:

        def _finish_stream(self, stream: H2Stream) -> None: ...

    def _start(self, stream: H2Stream) -> None:
        """Run the stream's handler here, under an idle serving task's name, until it
        finishes or waits; a waiting handler is handed to that task."""
        loop = self._loop
        idle = self._idle
        worker = idle[-1] if idle else self._spawn()
        task = worker.task
        assert task is not None and stream.request is not None
        try:
            _enter_task(loop, task)
        except RuntimeError:  # called from inside a running task: no eager start
            stream.task = loop.create_task(self._serve_stream(stream))
            return
        context = self._context.copy()  # each stream's own, as a task per stream would have
        coro = self._server.respond(stream.request)
        try:
            awaited = context.run(coro_send, coro, None)
        except (StopIteration, asyncio.CancelledError):
            awaited = _DONE
        except Exception as exc:
            awaited = _DONE
            self._report(exc)
        finally:
            _leave_task(loop, task)
        if awaited is _DONE:  # finished without waiting
            if task.cancelling():  # it cancelled its task: that one leaves the pool
                _leave_pool(idle, worker)
            self._finish_stream(stream)
            return
        _leave_pool(idle, worker)
        worker.job = Resume(coro, awaited, context)
        worker.stream = stream
        stream.task = task
        waiter = worker.waiter
        if waiter is not None and not waiter.done():  # (cancelled: the job gets it)
            waiter.set_result(None)

    def _spawn(self) -> _Worker:
        """One more idle serving task. Its coroutine is started here, up to a bare yield, so
        that a cancellation before the task's first step still lands inside it."""
        worker = _Worker()
        coro = self._work(worker)
        coro.send(None)
        worker.task = self._loop.create_task(coro, context=self._context)
        self._idle.append(worker)
        return worker

    async def _work(self, worker: _Worker) -> None:
        """An idle serving task: finishes the handlers _start hands over, one at a time, and
        is idle in between; it ends when cancelled while idle or after a cancelled job."""
        idle = self._idle
        waiting: Any = _FIRST_STEP
        while True:
            try:
                await waiting
            except asyncio.CancelledError as exc:
                job = worker.job
                if job is None:
                    if worker in idle:
                        idle.remove(worker)
                    return
                job.throw(exc)  # the handler cancelled its task, then waited
            finally:
                worker.waiter = None
            job = worker.job
            if job is not None:
                stream = worker.stream
                assert stream is not None
                worker.job = worker.stream = None
                try:
                    await job
                except asyncio.CancelledError:
                    pass
                except Exception as exc:
                    self._report(exc)
                finally:
                    self._finish_stream(stream)
                task = worker.task
                assert task is not None
                if task.cancelling() or self.transport is None or len(idle) >= _IDLE_MAX:
                    return
                idle.append(worker)
            waiting = worker.waiter = self._loop.create_future()

    def _report(self, exc: Exception) -> None:
        self._loop.call_exception_handler(
            {"message": "Unhandled exception in an HTTP/2 stream", "exception": exc}
        )

    async def _serve_stream(self, stream: H2Stream) -> None:
        request = stream.request
        assert request is not None
        try:
            await self._server.respond(request)
        except asyncio.CancelledError:
            pass
        finally:
            self._finish_stream(stream)
