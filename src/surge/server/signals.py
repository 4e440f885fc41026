"""Signal: an ordered list of async callbacks, frozen with its application."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Signal", "Signals", "post_shutdown", "pre_shutdown"]


class Signal(list[Callable[..., Awaitable[Any]]]):
    """``app.on_startup.append(cb)``; ``await signal.send(*args)`` calls each in order."""

    def __init__(self, owner: object = None) -> None:
        super().__init__()
        self._owner = owner
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    def append(self, item: Callable[..., Awaitable[Any]]) -> None:
        self._check()
        super().append(item)

    def extend(self, items: Any) -> None:
        self._check()
        super().extend(items)

    def insert(self, index: Any, item: Callable[..., Awaitable[Any]]) -> None:
        self._check()
        super().insert(index, item)

    def remove(self, item: Callable[..., Awaitable[Any]]) -> None:
        self._check()
        super().remove(item)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self._check()
        super().__delitem__(index)

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    async def send(self, *args: Any, **kwargs: Any) -> None:
        if not self._frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for receiver in self:
            await receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {list(self)!r}>"


class Signals(enum.StrEnum):
    """Names for ``app.signal(name)`` (the spec's "Signals" section).

    ``PRE_SHUTDOWN`` handlers run before ``on_shutdown``, as ``h(app)`` or ``h(app, services)``
    (``services``: a read-only view of the application's state, where shared resources live);
    ``POST_SHUTDOWN`` handlers run as ``h(app)`` after ``on_cleanup``, once everything is closed.
    ``PRE_SIGNALS``/``POST_SIGNALS`` are the same two signals under the spec's names.
    """

    PRE_SHUTDOWN = "pre_shutdown"
    POST_SHUTDOWN = "post_shutdown"
    PRE_SIGNALS = "pre_shutdown"
    POST_SIGNALS = "post_shutdown"


pre_shutdown = Signals.PRE_SHUTDOWN
post_shutdown = Signals.POST_SHUTDOWN
