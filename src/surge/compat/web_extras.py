"""aiohttp.web names with no other home in surge: typed request/response keys, the
bytes-dumping JSON response, protocol-level exceptions, and the Windows named-pipe site."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from surge.server.full_response import Response
from surge.server.protocol.h1 import H1ServerProtocol
from surge.server.runner import BaseSite
from surge.typedefs import LooseHeaders

__all__ = [
    "NamedPipeSite",
    "NotAppKeyWarning",
    "PayloadAccessError",
    "RequestHandler",
    "RequestKey",
    "RequestPayloadError",
    "ResponseKey",
    "json_bytes_response",
]

_T = TypeVar("_T")

# The per-connection HTTP/1.1 protocol (aiohttp.web_protocol.RequestHandler's job).
RequestHandler = H1ServerProtocol


class NotAppKeyWarning(UserWarning):
    """A plain ``str`` key was used for application state where an ``AppKey`` is advised."""


class PayloadAccessError(Exception):
    """The request body was accessed after the handler finished with it."""


class RequestPayloadError(Exception):
    """The request body could not be read (truncated, malformed chunking, ...)."""


class _Key(Generic[_T]):
    __slots__ = ("_name", "_t")

    def __init__(self, name: str, t: type[_T] | None = None) -> None:
        self._name = name
        self._t = t

    def __lt__(self, other: object) -> bool:
        if isinstance(other, _Key):
            return self._name < other._name
        return NotImplemented

    def __repr__(self) -> str:
        tname = (
            "<<Unknown>>" if self._t is None else getattr(self._t, "__qualname__", repr(self._t))
        )
        return f"<{type(self).__name__}({self._name}, type={tname})>"


class RequestKey(_Key[_T]):
    """A typed key for per-request state: ``request[USER] = user``."""


class ResponseKey(_Key[_T]):
    """A typed key for per-response state: ``response[TIMING] = 0.2``."""


def json_bytes_response(
    data: Any = None,
    *,
    dumps: Callable[[Any], bytes],
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
) -> Response:
    """``json_response`` for a serialiser returning bytes (``orjson.dumps``)."""
    if data is not None:
        if body is not None:
            raise ValueError("only one of data or body should be specified")
        body = dumps(data)
    return Response(
        body=body, status=status, reason=reason, headers=headers, content_type=content_type
    )


class NamedPipeSite(BaseSite):
    """Serving on a Windows named pipe; like aiohttp's, only under a ``ProactorEventLoop``."""

    def __init__(self, runner: Any, path: str, *, shutdown_timeout: float = 60.0) -> None:
        if sys.platform != "win32":
            raise RuntimeError("Named Pipes only available in proactor loop under windows")
        super().__init__(runner)  # pragma: no cover - Windows
        self._path = path  # pragma: no cover
