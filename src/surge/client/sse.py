"""``session.sse(url)`` / ``EventSource``: a Server-Sent Events client.

It follows the WHATWG EventSource model: events are parsed as they arrive; when the stream
ends (or the connection drops) it reconnects after the server's ``retry`` delay, sending
``Last-Event-ID``; a 204 answer ends the stream for good; another non-200 status, or a
Content-Type other than ``text/event-stream``, is an error.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any

from yarl import URL

from surge.client.exceptions import ClientConnectionError, ClientPayloadError, ClientResponseError
from surge.client.timeouts import ClientTimeout
from surge.http.sse import ServerSentEvent, SSELineTooLong, SSEParser

if TYPE_CHECKING:
    from surge.client.response import ClientResponse
    from surge.client.session import ClientSession

__all__ = ["EventSource", "ServerSentEvent"]

_STREAM_TIMEOUT = ClientTimeout(total=None, sock_connect=30)


class EventSource:
    """Iterate the events of ``url``.

    Example::

        async with session.sse("http://host/events") as events:
            async for event in events:
                print(event.event, event.data, event.id)

    ``reconnection_time`` (seconds) applies until the server sends ``retry``;
    ``max_reconnects`` bounds consecutive failed reconnects (None: no bound);
    ``reconnect=False`` ends the iteration when the stream ends.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        session: ClientSession | None = None,
        last_event_id: str = "",
        reconnect: bool = True,
        reconnection_time: float = 3.0,
        max_reconnects: int | None = 5,
        max_line_size: int = 2**20,
        headers: Any = None,
        timeout: ClientTimeout = _STREAM_TIMEOUT,
        **request_kwargs: Any,
    ) -> None:
        self._url = url
        self._session = session
        self._own_session = session is None
        self._last_event_id = last_event_id
        self._reconnect = reconnect
        self._reconnection_time = reconnection_time
        self._max_reconnects = max_reconnects
        self._max_line_size = max_line_size
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._kwargs = request_kwargs
        self._response: ClientResponse | None = None
        self._parser: SSEParser | None = None
        self._events: deque[ServerSentEvent] = deque()
        self._closed = False
        self._failures = 0
        self.connections = 0  # how many times a stream was opened

    @property
    def last_event_id(self) -> str:
        return self._parser.last_event_id if self._parser is not None else self._last_event_id

    @property
    def reconnection_time(self) -> float:
        """Seconds to wait before reconnecting (the server's last ``retry``, else the default)."""
        return self._reconnection_time

    @property
    def response(self) -> ClientResponse | None:
        """The response of the current stream."""
        return self._response

    async def connect(self) -> None:
        """Open the stream (called by ``async with`` and by the first iteration)."""
        if self._session is None:
            from surge.client.session import ClientSession

            self._session = ClientSession()
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **self._headers}
        last_id = self.last_event_id
        if last_id:
            headers["Last-Event-ID"] = last_id
        response = await self._session.get(
            self._url, headers=headers, timeout=self._timeout, **self._kwargs
        )
        if response.status == 204:
            response.release()
            self._closed = True
            return
        ctype = response.headers.get("Content-Type", "")
        if response.status != 200 or ctype.split(";")[0].strip().lower() != "text/event-stream":
            response.release()
            self._closed = True
            raise ClientResponseError(
                response.request_info,
                (),
                status=response.status,
                message=f"Not an event stream (status {response.status}, {ctype!r})",
                headers=response.headers,
            )
        self._response = response
        self._parser = SSEParser(max_line_size=self._max_line_size, last_event_id=last_id)
        self.connections += 1

    async def close(self) -> None:
        """Stop reading and release the connection (and the session if we made it)."""
        self._closed = True
        if self._response is not None:
            self._response.close()
            self._response = None
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> EventSource:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> EventSource:
        return self

    async def __anext__(self) -> ServerSentEvent:
        events = self._events
        while not events:
            if self._closed:
                raise StopAsyncIteration
            response = self._response
            if response is None:
                await self._reopen()
                continue
            parser = self._parser
            assert parser is not None
            try:
                chunk = await response.content.readany()
            except (ClientPayloadError, ClientConnectionError, ConnectionError):
                chunk = b""
            if not chunk:
                self._end_stream()
                continue
            self._failures = 0
            try:
                events.extend(parser.feed(chunk))
            except SSELineTooLong:
                await self.close()
                raise
            if parser.retry is not None:
                self._reconnection_time = parser.retry / 1000
        return events.popleft()

    def _end_stream(self) -> None:
        if self._parser is not None:
            self._last_event_id = self._parser.last_event_id
        if self._response is not None:
            self._response.close()
            self._response = None
        if not self._reconnect:
            self._closed = True

    async def _reopen(self) -> None:
        await asyncio.sleep(self._reconnection_time)
        try:
            await self.connect()
        except (ClientConnectionError, OSError, TimeoutError):
            self._failures += 1
            if self._max_reconnects is not None and self._failures > self._max_reconnects:
                await self.close()
                raise
