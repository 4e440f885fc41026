"""An application's startup and cleanup machinery: ``cleanup_ctx``, lifespans, sub-app signals.

``CleanupContext`` runs async generators (or async context managers) to their ``yield`` at
startup and resumes them in reverse order at cleanup, gathering every failure: one error is
raised as is, several as a :class:`CleanupError`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from surge.server.app import Application
    from surge.server.signals import Signal

__all__ = ["CleanupContext", "CleanupError", "lifespanContext", "positional_arity"]


class CleanupError(ExceptionGroup, RuntimeError):
    """Several cleanup contexts failed: a ``RuntimeError`` (as aiohttp's) and an exception group."""


class CleanupContext(list[Callable[["Application"], AsyncIterator[None]]]):
    """``app.cleanup_ctx``: async generators run to their ``yield`` at startup, resumed at cleanup."""

    def __init__(self) -> None:
        super().__init__()
        self._running: list[AsyncIterator[None]] = []

    async def _on_startup(self, app: Application) -> None:
        for factory in self:
            iterator = factory(app)
            if hasattr(iterator, "__aenter__") and not hasattr(iterator, "__anext__"):
                iterator = _cm_as_iterator(iterator)
            await iterator.__anext__()
            self._running.append(iterator)

    async def _on_cleanup(self, app: Application) -> None:
        errors: list[BaseException] = []
        for iterator in reversed(self._running):
            try:
                await iterator.__anext__()
            except StopAsyncIteration:
                pass
            except Exception as exc:
                errors.append(exc)
            else:
                errors.append(RuntimeError(f"{iterator!r} has more than one 'yield'"))
        self._running.clear()
        if errors:
            if len(errors) == 1:
                raise errors[0]
            raise CleanupError("Multiple errors on cleanup stage", cast(list[Exception], errors))


async def _cm_as_iterator(cm: Any) -> AsyncIterator[None]:
    async with cm:
        yield


def lifespanContext(func: Callable[[Application], Any]) -> Callable[[Application], Any]:
    """Mark an async generator ``async def lifespan(app): ...; yield; ...`` as a lifespan.

    The code before ``yield`` runs at startup, the rest at cleanup:
    ``web.Application(lifespan=lifespan)``.
    """
    return func


class _SubappSignal:
    """A parent's signal receiver that sends a sub-app's signal with the sub-app."""

    __slots__ = ("_app", "_signal")

    def __init__(self, signal: Signal, app: Application) -> None:
        self._signal = signal
        self._app = app

    async def __call__(self, parent: Application) -> None:
        await self._signal.send(self._app)

    def __repr__(self) -> str:
        return f"<sub-app {self._app!r} signal>"


def positional_arity(func: Callable[..., Any]) -> int:
    """How many positional arguments ``func`` takes (2 when it cannot be told or takes *args)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return 2
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 2
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
