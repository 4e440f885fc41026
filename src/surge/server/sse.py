"""``web.EventSourceResponse`` and ``sse_response``: Server-Sent Events from a handler.

The response sets the headers an event stream needs (``text/event-stream``, no caching, no
proxy buffering, never compressed), sends a keep-alive comment every ``ping_interval`` seconds,
and notices a client that went away (a failed write, or its EOF or the connection's end as the
server's protocol reports them, without polling), after which ``send`` raises
:class:`ConnectionResetError` and :meth:`wait` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from surge.http.sse import encode_comment, encode_event
from surge.server.response import StreamResponse

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["EventSourceResponse", "sse_response"]

_PING = encode_comment("ping")


class EventSourceResponse(StreamResponse):
    """A stream of Server-Sent Events.

    Example::

        async def handler(request):
            async with sse_response(request) as events:
                for i in range(10):
                    await events.send(json.dumps({"count": i}), id=str(i))
            return events
    """

    def __init__(
        self,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: Any = None,
        ping_interval: float | None = 15.0,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._ping_interval = ping_interval
        self._ping_task: asyncio.Task[None] | None = None
        self._gone: asyncio.Future[None] | None = None
        self._request: BaseRequest | None = None

    @property
    def ping_interval(self) -> float | None:
        return self._ping_interval

    @ping_interval.setter
    def ping_interval(self, value: float | None) -> None:
        if self.prepared:
            raise RuntimeError("Set ping_interval before prepare()")
        if value is not None and value <= 0:
            raise ValueError("ping_interval must be positive (or None)")
        self._ping_interval = value

    @property
    def last_event_id(self) -> str | None:
        """The client's ``Last-Event-ID`` header (set when it reconnects), if any."""
        if self._request is None:
            raise RuntimeError("EventSource request must be prepared first")
        return self._request.headers.get("Last-Event-ID")

    async def prepare(self, request: BaseRequest) -> Any:
        if self._writer is not None:
            return self._writer
        headers = self.headers
        headers["Content-Type"] = "text/event-stream; charset=utf-8"
        headers["Cache-Control"] = "no-cache"
        headers["X-Accel-Buffering"] = "no"
        headers.popall("Content-Encoding", None)
        headers.popall("Content-Length", None)
        self._compression = False
        self._request = request
        writer = await super().prepare(request)
        self._gone = asyncio.get_running_loop().create_future()
        # The client's leaving (its EOF, the connection's end) wakes :meth:`wait` at once.
        request._on_client_gone = self._went_away
        if request._disconnected:
            self._went_away()
        if self._ping_interval:
            self._ping_task = asyncio.get_running_loop().create_task(self._pinger())
        return writer

    def is_connected(self) -> bool:
        """Whether the client is (as far as we can tell) still reading."""
        request = self._request
        if request is None or self._gone is None or self._gone.done():
            return False
        transport = request.transport
        return not request._disconnected and transport is not None and not transport.is_closing()

    def _went_away(self) -> None:
        gone = self._gone
        if gone is not None and not gone.done():
            gone.set_result(None)

    async def _write(self, data: bytes) -> None:
        if not self.is_connected():
            self._went_away()
            raise ConnectionResetError("The event stream's client went away")
        try:
            await super().write(data)
        except ConnectionError:
            self._went_away()
            raise

    async def send(
        self,
        data: str,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
    ) -> None:
        """Send one event; multi-line ``data`` becomes several ``data:`` lines."""
        await self._write(encode_event(data, event=event, id=id, retry=retry))

    async def comment(self, text: str = "") -> None:
        """Send a comment line (clients ignore it)."""
        await self._write(encode_comment(text))

    async def _pinger(self) -> None:
        interval = self._ping_interval
        assert interval is not None
        with contextlib.suppress(ConnectionError):
            while True:
                await asyncio.sleep(interval)
                await self._write(_PING)

    async def wait(self) -> None:
        """Wait until the client goes away (or the stream is stopped)."""
        if self._gone is None:
            raise RuntimeError("Response is not started")
        if not self.is_connected():
            self._went_away()
        await asyncio.shield(self._gone)  # a cancelled wait() must not settle the future

    def stop_streaming(self) -> None:
        """Stop the keep-alive pings and wake :meth:`wait`."""
        if self._ping_task is not None:
            self._ping_task.cancel()
            self._ping_task = None
        self._went_away()

    async def write_eof(self, data: bytes = b"") -> None:
        self.stop_streaming()
        with contextlib.suppress(ConnectionError):
            await super().write_eof(data)

    async def __aenter__(self) -> EventSourceResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.write_eof()


@contextlib.asynccontextmanager
async def sse_response(
    request: BaseRequest,
    *,
    status: int = 200,
    reason: str | None = None,
    headers: Any = None,
    ping_interval: float | None = 15.0,
) -> AsyncIterator[EventSourceResponse]:
    """Prepare an :class:`EventSourceResponse`; it ends when the block ends."""
    response = EventSourceResponse(
        status=status, reason=reason, headers=headers, ping_interval=ping_interval
    )
    await response.prepare(request)
    try:
        yield response
    finally:
        await response.write_eof()
