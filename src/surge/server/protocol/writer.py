"""What every response writer shares: the generic form of ``send_simple``.

A response writer (the HTTP/1.1 protocol, an HTTP/2 stream, the test mock) takes a response's
head with ``send_head`` and its body with ``write``/``write_eof``. ``send_simple`` is the
common whole response whose only header is Content-Type (an untouched ``Response(text=...)``);
a writer with a faster way to frame it overrides this method.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from multidict import CIMultiDict, istr

__all__ = ["READY", "ResponseWriter"]

_CONTENT_TYPE = istr("Content-Type")


class _Ready:
    """An awaitable that is already done: what ``write`` returns when no drain is needed."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


READY = _Ready()


class ResponseWriter:
    __slots__ = ()

    def send_head(
        self,
        request: Any,
        status: int,
        reason: str | None,
        headers: CIMultiDict[str],
        *,
        keep_alive: bool | None,
        chunked: bool,
        body: bytes | None = None,
    ) -> int:
        """Send the head (and ``body`` when the whole body is known); the head's size in
        bytes as it went on the wire (0 where that is not known, as for HTTP/2)."""
        raise NotImplementedError

    def send_simple(
        self,
        request: Any,
        status: int,
        reason: str | None,
        content_type: str,
        body: bytes,
        keep_alive: bool | None,
    ) -> int:
        """Send a whole response whose only header is ``Content-Type: content_type``."""
        headers: CIMultiDict[str] = CIMultiDict({_CONTENT_TYPE: content_type})
        return self.send_head(
            request, status, reason, headers, keep_alive=keep_alive, chunked=False, body=body
        )
