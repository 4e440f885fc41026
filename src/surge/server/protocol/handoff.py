"""Handing a handler coroutine started outside a task over to a long-lived serving task.

The protocols start a request's handler synchronously in ``data_received``, under the name
(``asyncio.current_task()``) of an idle serving task; a handler that finishes without waiting
costs no task and no loop iteration. One that waits is handed to that task as a
:class:`Resume`, which the task awaits: the handler goes on where it waits, in the same task.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine, Generator
from types import CoroutineType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import contextvars

__all__ = ["DONE", "NOT_STARTED", "Resume", "coro_send", "driver_send", "new_driver"]

NOT_STARTED: Any = object()

# ``context.run(coro_send, coro, value)`` steps a coroutine without making a bound method per
# call (``coro.send`` is a method load that Python 3.11 does not specialize).
coro_send: Callable[[Any, Any], Any] = CoroutineType.send
driver_send: Callable[[Any, Any], Any] = types.GeneratorType.send

# What a driver yields when the coroutine it runs has returned.
DONE: Any = object()


@types.coroutine
def _drive() -> Generator[Any, Any, None]:
    coro = yield DONE
    while True:
        yield from coro
        coro = yield DONE


def new_driver() -> Generator[Any, Any, None]:
    """A driver: ``driver_send(driver, coro)`` runs ``coro`` until it waits (what it waits
    on comes back) or returns (``DONE`` comes back), and the driver takes the next coroutine
    after that. A coroutine stepped itself ends in a StopIteration, an exception per request;
    one run by a driver does not. A coroutine that raises finishes its driver."""
    driver = _drive()
    driver.send(None)
    return driver


class Resume:
    """Runs a request's handler coroutine inside the awaiting task, each step in the request's
    own context. ``awaited`` is what the coroutine yielded when it was started elsewhere
    (eagerly, in ``data_received``); ``NOT_STARTED`` when it starts here. ``coro`` may be a
    driver (see :func:`new_driver`) busy with a handler: it is done when it yields ``DONE``."""

    __slots__ = ("_awaited", "_context", "_coro", "_throw")

    def __init__(
        self,
        coro: Coroutine[Any, Any, None] | Generator[Any, Any, None],
        awaited: Any,
        context: contextvars.Context,
    ) -> None:
        self._coro = coro
        self._awaited = awaited
        self._context = context
        self._throw: BaseException | None = None

    def throw(self, exc: BaseException) -> None:
        """Deliver ``exc`` where the coroutine waits before anything else: a cancellation
        that reached the task before it took the coroutine over."""
        self._throw = exc

    def close(self) -> None:
        self._coro.close()  # its finally blocks run now

    def __await__(self) -> Generator[Any, None, None]:
        coro = self._coro
        send: Callable[[Any, Any], Any] = type(coro).send
        run = self._context.run
        awaited = self._awaited
        if awaited is NOT_STARTED:
            try:
                awaited = run(send, coro, None)
            except StopIteration:
                return
        exc: BaseException | None = self._throw
        if exc is not None:
            self._throw = None
            try:
                awaited = run(coro.throw, exc)
            except StopIteration:
                return
        while awaited is not DONE:
            try:
                yield awaited
            except BaseException as exc:  # cancellation reaches the handler where it waits
                try:
                    awaited = run(coro.throw, exc)
                except StopIteration:
                    return
            else:
                try:
                    awaited = run(send, coro, None)
                except StopIteration:
                    return
