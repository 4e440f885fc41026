"""``reify``: a lazily computed attribute, stored on the instance after the first access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class reify(Generic[_T]):
    """Like ``functools.cached_property`` but lock-free (a non-data descriptor: after the
    first access the instance attribute answers directly)."""

    __slots__ = ("__dict__", "func", "name")

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> reify[_T]: ...
    @overload
    def __get__(self, inst: object, owner: type[Any]) -> _T: ...
    def __get__(self, inst: object | None, owner: type[Any]) -> _T | reify[_T]:
        if inst is None:
            return self
        value = self.func(inst)
        # Stored as an ordinary attribute (a non-data descriptor lets it shadow this one);
        # touching ``inst.__dict__`` instead would make Python 3.11 build the instance's
        # dict, which slows every later attribute access on it.
        object.__setattr__(inst, self.name, value)
        return value
