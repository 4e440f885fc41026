"""Client tracing (aiohttp's ``TraceConfig``): async callbacks at each step of a request.

A session built with ``trace_configs=[...]`` freezes them; each request then gets one
:class:`Trace` per config, holding a fresh context (``trace_config_ctx``) so callbacks can keep
per-request state. A session with no trace configs pays nothing: the senders are skipped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict
from yarl import URL

if TYPE_CHECKING:
    from surge.client.response import ClientResponse

__all__ = [
    "Signal",
    "Trace",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
]

_Callback = Callable[[Any, SimpleNamespace, Any], Awaitable[None]]


class Signal(list[_Callback]):
    """A list of async callbacks; frozen (read-only) once the session starts using it."""

    __slots__ = ("_frozen",)

    def __init__(self) -> None:
        super().__init__()
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify a frozen signal")

    def append(self, callback: _Callback) -> None:
        self._check()
        super().append(callback)

    def insert(self, index: Any, callback: _Callback) -> None:
        self._check()
        super().insert(index, callback)

    def remove(self, callback: _Callback) -> None:
        self._check()
        super().remove(callback)

    def extend(self, callbacks: Any) -> None:
        self._check()
        super().extend(callbacks)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self._check()
        super().__delitem__(index)

    async def send(self, session: Any, ctx: SimpleNamespace, params: Any) -> None:
        for callback in self:
            await callback(session, ctx, params)


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestStartParams:
    method: str
    url: URL
    headers: CIMultiDict[str]


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestChunkSentParams:
    method: str
    url: URL
    chunk: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class TraceResponseChunkReceivedParams:
    method: str
    url: URL
    chunk: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestEndParams:
    method: str
    url: URL
    headers: CIMultiDict[str]
    response: ClientResponse


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestExceptionParams:
    method: str
    url: URL
    headers: CIMultiDict[str]
    exception: BaseException


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestRedirectParams:
    method: str
    url: URL
    headers: CIMultiDict[str]
    response: ClientResponse


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestHeadersSentParams:
    method: str
    url: URL
    headers: CIMultiDict[str]


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionQueuedStartParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionQueuedEndParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionCreateStartParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionCreateEndParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionReuseconnParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsResolveHostStartParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsResolveHostEndParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsCacheHitParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsCacheMissParams:
    host: str


class TraceConfig:
    """The callbacks to run as requests progress.

    ``tc = TraceConfig(); tc.on_request_start.append(on_start)``
    ``ClientSession(trace_configs=[tc])`` — each callback is
    ``async def on_start(session, trace_config_ctx, params)``.
    """

    def __init__(self, trace_config_ctx_factory: type[SimpleNamespace] = SimpleNamespace) -> None:
        self._factory = trace_config_ctx_factory
        self.on_request_start = Signal()
        self.on_request_chunk_sent = Signal()
        self.on_response_chunk_received = Signal()
        self.on_request_end = Signal()
        self.on_request_exception = Signal()
        self.on_request_redirect = Signal()
        self.on_connection_queued_start = Signal()
        self.on_connection_queued_end = Signal()
        self.on_connection_create_start = Signal()
        self.on_connection_create_end = Signal()
        self.on_connection_reuseconn = Signal()
        self.on_dns_resolvehost_start = Signal()
        self.on_dns_resolvehost_end = Signal()
        self.on_dns_cache_hit = Signal()
        self.on_dns_cache_miss = Signal()
        self.on_request_headers_sent = Signal()

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> SimpleNamespace:
        """A fresh per-request context; ``trace_request_ctx`` is what the request passed."""
        return self._factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        for value in vars(self).values():
            if isinstance(value, Signal):
                value.freeze()


class Trace:
    """One config's callbacks bound to one request (its session and context)."""

    __slots__ = ("_config", "_ctx", "_session")

    def __init__(self, session: Any, config: TraceConfig, ctx: SimpleNamespace) -> None:
        self._session = session
        self._config = config
        self._ctx = ctx

    async def _send(self, signal: Signal, params: Any) -> None:
        await signal.send(self._session, self._ctx, params)

    async def send_request_start(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        await self._send(
            self._config.on_request_start, TraceRequestStartParams(method, url, headers)
        )

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        await self._send(
            self._config.on_request_chunk_sent, TraceRequestChunkSentParams(method, url, chunk)
        )

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        await self._send(
            self._config.on_response_chunk_received,
            TraceResponseChunkReceivedParams(method, url, chunk),
        )

    async def send_request_end(
        self, method: str, url: URL, headers: CIMultiDict[str], response: ClientResponse
    ) -> None:
        await self._send(
            self._config.on_request_end, TraceRequestEndParams(method, url, headers, response)
        )

    async def send_request_exception(
        self, method: str, url: URL, headers: CIMultiDict[str], exception: BaseException
    ) -> None:
        await self._send(
            self._config.on_request_exception,
            TraceRequestExceptionParams(method, url, headers, exception),
        )

    async def send_request_redirect(
        self, method: str, url: URL, headers: CIMultiDict[str], response: ClientResponse
    ) -> None:
        await self._send(
            self._config.on_request_redirect,
            TraceRequestRedirectParams(method, url, headers, response),
        )

    async def send_request_headers(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        await self._send(
            self._config.on_request_headers_sent,
            TraceRequestHeadersSentParams(method, url, headers),
        )

    async def send_connection_queued_start(self) -> None:
        await self._send(self._config.on_connection_queued_start, _QUEUED_START)

    async def send_connection_queued_end(self) -> None:
        await self._send(self._config.on_connection_queued_end, _QUEUED_END)

    async def send_connection_create_start(self) -> None:
        await self._send(self._config.on_connection_create_start, _CREATE_START)

    async def send_connection_create_end(self) -> None:
        await self._send(self._config.on_connection_create_end, _CREATE_END)

    async def send_connection_reuseconn(self) -> None:
        await self._send(self._config.on_connection_reuseconn, _REUSECONN)

    async def send_dns_resolvehost_start(self, host: str) -> None:
        await self._send(
            self._config.on_dns_resolvehost_start, TraceDnsResolveHostStartParams(host)
        )

    async def send_dns_resolvehost_end(self, host: str) -> None:
        await self._send(self._config.on_dns_resolvehost_end, TraceDnsResolveHostEndParams(host))

    async def send_dns_cache_hit(self, host: str) -> None:
        await self._send(self._config.on_dns_cache_hit, TraceDnsCacheHitParams(host))

    async def send_dns_cache_miss(self, host: str) -> None:
        await self._send(self._config.on_dns_cache_miss, TraceDnsCacheMissParams(host))


_QUEUED_START = TraceConnectionQueuedStartParams()
_QUEUED_END = TraceConnectionQueuedEndParams()
_CREATE_START = TraceConnectionCreateStartParams()
_CREATE_END = TraceConnectionCreateEndParams()
_REUSECONN = TraceConnectionReuseconnParams()
