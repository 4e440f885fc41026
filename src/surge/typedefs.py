"""Type aliases shared by the client and the server (aiohttp.typedefs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

if TYPE_CHECKING:
    from surge.server.request import Request
    from surge.server.response import StreamResponse

__all__ = ["Handler", "JSONDecoder", "JSONEncoder", "LooseHeaders", "Middleware", "StrOrURL"]

JSONEncoder: TypeAlias = Callable[[Any], str]
JSONDecoder: TypeAlias = Callable[[str], Any]
StrOrURL: TypeAlias = "str | URL"
LooseHeaders: TypeAlias = (
    "Mapping[str, str] | Mapping[istr, str] | CIMultiDict[str] | CIMultiDictProxy[str]"
    " | Iterable[tuple[str | istr, str]]"
)
Handler: TypeAlias = "Callable[[Request], Awaitable[StreamResponse]]"
Middleware: TypeAlias = "Callable[[Request, Handler], Awaitable[StreamResponse]]"
