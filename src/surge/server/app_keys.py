"""``AppKey``: a typed key for application state."""

from __future__ import annotations

import inspect
from typing import Generic, TypeVar

__all__ = ["AppKey"]

_T = TypeVar("_T")


class AppKey(Generic[_T]):
    """A typed key for application state: ``DB = web.AppKey("db", Pool)``; ``app[DB]``."""

    __slots__ = ("_name", "_t")

    def __init__(self, name: str, t: type[_T] | None = None) -> None:
        frame = inspect.currentframe()
        module = ""
        if frame is not None and frame.f_back is not None:
            module = frame.f_back.f_globals.get("__name__", "")
        self._name = f"{module}.{name}" if module and module != "__main__" else name
        self._t = t

    def __lt__(self, other: object) -> bool:
        if isinstance(other, AppKey):
            return self._name < other._name
        return True

    def __repr__(self) -> str:
        t = self._t
        tname = "<<Unknown>>" if t is None else getattr(t, "__qualname__", repr(t))
        return f"<AppKey({self._name}, type={tname})>"
