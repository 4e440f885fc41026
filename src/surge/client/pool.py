"""The keep-alive pool and connection limits every connector shares (``BaseConnector``).

Invariants:
- A connection is *acquired* from ``connect()`` until its response completes (back to the
  pool when reusable) or it is closed. Limits count acquired connections; waiters queue FIFO.
- The pool hands out only connections that are open and younger than ``keepalive_timeout``;
  most recently used first (their TCP windows are warm, their server timers fresh).
"""

from __future__ import annotations

import asyncio
import ssl as ssllib
from collections import deque
from collections.abc import Sequence
from typing import Any

from surge.client.connection.h1 import H1Connection
from surge.client.connection.h2 import AlpnSwitch, H2ClientConnection, H2Stream
from surge.client.exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorSSLError,
    ConnectionKey,
    ConnectionTimeoutError,
)
from surge.client.request import ClientRequest
from surge.client.timeouts import ClientTimeout
from surge.client.tracing import Trace

__all__ = ["BaseConnector", "Connection"]

_SENTINEL: Any = object()


class Connection:
    """An acquired connection, as a response holds it."""

    __slots__ = ("_connector", "key", "protocol")

    def __init__(self, connector: BaseConnector, key: ConnectionKey, protocol: Any) -> None:
        self._connector = connector
        self.key = key
        self.protocol: Any = protocol  # H1Connection, or an H2Stream of a shared connection
        protocol.on_complete = self._on_complete

    def __repr__(self) -> str:
        return f"<Connection {self.key.host}:{self.key.port}>"

    @property
    def reused(self) -> bool:
        return self.protocol is not None and self.protocol.reused > 0

    def _on_complete(self, reusable: bool) -> None:
        proto = self.protocol
        if proto is not None:
            self.protocol = None
            self._connector._release(self.key, proto, reusable)

    def release(self) -> None:
        """Back to the pool if the exchange finished cleanly, else closed."""
        proto = self.protocol
        if proto is not None:
            self.protocol = None
            self._connector._release(self.key, proto, not proto.busy and not proto.closed)

    def close(self) -> None:
        proto = self.protocol
        if proto is not None:
            self.protocol = None
            self._connector._release(self.key, proto, False)


class BaseConnector:
    """The keep-alive pool and the connection limits; subclasses open the connections."""

    allowed_protocol_schema_set: frozenset[str] = frozenset({"", "http", "https", "ws", "wss"})
    """URL schemes a session may send through this connector."""

    def __init__(
        self,
        *,
        keepalive_timeout: float | None = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not _SENTINEL:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
        elif keepalive_timeout is _SENTINEL:
            keepalive_timeout = 15.0
        self._keepalive_timeout: float | None = None if force_close else keepalive_timeout
        self._force_close = force_close
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._pool: dict[ConnectionKey, list[tuple[H1Connection, float]]] = {}
        self._acquired: dict[ConnectionKey, int] = {}
        self._acquired_total = 0
        self._waiters: deque[tuple[ConnectionKey, asyncio.Future[None]]] = deque()
        self._closed = False
        self._cleanup_handle: asyncio.TimerHandle | None = None
        self._loop = loop
        self._all: set[H1Connection] = set()
        self._cleanup_closed = enable_cleanup_closed
        self._cleanup_closed_period = 2.0
        self._closing: list[tuple[H1Connection, float]] = []
        self._closing_handle: asyncio.TimerHandle | None = None
        # HTTP/2: False, True (ALPN on https) or "prior_knowledge" (also on http); shared
        # connections per key, and the first connection being made for a key that may
        # turn out HTTP/2 (requests meanwhile wait for it rather than open their own).
        self._http2: bool | str = False
        self._h2: dict[ConnectionKey, list[H2ClientConnection]] = {}
        self._h2_pending: dict[ConnectionKey, asyncio.Future[None]] = {}

    # properties ----------------------------------------------------------------------------

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def limit_per_host(self) -> int:
        return self._limit_per_host

    @property
    def force_close(self) -> bool:
        return self._force_close

    @property
    def closed(self) -> bool:
        return self._closed

    def __del__(self) -> None:
        # getattr: a subclass may fail (bad arguments) before BaseConnector.__init__ ran.
        if not getattr(self, "_closed", True) and self._all:
            for proto in list(self._all):
                proto.abort()

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # acquiring -----------------------------------------------------------------------------

    def _has_room(self, key: ConnectionKey) -> bool:
        if self._limit and self._acquired_total >= self._limit:
            return False
        return not (self._limit_per_host and self._acquired.get(key, 0) >= self._limit_per_host)

    async def connect(
        self,
        req: ClientRequest,
        traces: Sequence[Trace] | None = None,
        timeout: ClientTimeout | None = None,
        *,
        fresh: bool = False,
    ) -> Connection:
        """A connection for ``req``: pooled if one is alive, else a new one."""
        if self._closed:
            raise RuntimeError("Connector is closed.")
        key = self._key(req)
        if (self._http2 or self._h2) and not fresh:
            stream = await self._h2_stream(key)
            if stream is not None:
                if traces:
                    for trace in traces:
                        await trace.send_connection_reuseconn()
                return Connection(self, key, stream)
        if not self._has_room(key):
            await self._wait_for_room(key, traces or ())
            if self._h2 and not fresh:
                stream = await self._h2_stream(key)  # a stream came free meanwhile
                if stream is not None:
                    return Connection(self, key, stream)
        self._acquired_total += 1
        self._acquired[key] = self._acquired.get(key, 0) + 1
        pending = None
        if self._may_h2(req) and key not in self._h2_pending:
            pending = self._h2_pending[key] = asyncio.get_running_loop().create_future()
        try:
            proto: Any = None if fresh else self._take_pooled(key)
            if proto is None:
                if traces:
                    for trace in traces:
                        await trace.send_connection_create_start()
                proto = await self._create_connection(req, key, timeout, traces or ())
                self._all.add(proto)
                if traces:
                    for trace in traces:
                        await trace.send_connection_create_end()
            elif traces:
                for trace in traces:
                    await trace.send_connection_reuseconn()
        except BaseException:
            self._unreserve(key)
            raise
        finally:
            if pending is not None:
                del self._h2_pending[key]
                pending.set_result(None)
        if isinstance(proto, H2ClientConnection):
            # The acquisition now belongs to the shared connection, until it closes.
            self._h2.setdefault(key, []).append(proto)
            proto.on_closed = lambda conn: self._h2_closed(key, conn)
            proto.on_stream_free = self._wake_waiter
            proto.idle_timeout = self._keepalive_timeout
            return Connection(self, key, proto.open_stream())
        return Connection(self, key, proto)

    def _may_h2(self, req: ClientRequest) -> bool:
        http2 = self._http2
        return (
            bool(http2)
            and req.proxy is None
            and (req.is_ssl or http2 == "prior_knowledge")
            and req.url.scheme not in ("ws", "wss")  # a WebSocket handshake is HTTP/1.1
        )

    async def _h2_stream(self, key: ConnectionKey) -> H2Stream | None:
        """A stream on a shared HTTP/2 connection with room, if there is one (waiting for a
        first connection to the same origin that may be HTTP/2)."""
        while True:
            for conn in self._h2.get(key, ()):
                if conn.has_room:
                    return conn.open_stream()
            pending = self._h2_pending.get(key)
            if pending is None:
                return None
            await asyncio.shield(pending)

    def _h2_has_room(self, key: ConnectionKey) -> bool:
        return any(conn.has_room for conn in self._h2.get(key, ()))

    def _h2_closed(self, key: ConnectionKey, conn: H2ClientConnection) -> None:
        conns = self._h2.get(key)
        if conns is not None and conn in conns:
            conns.remove(conn)
            if not conns:
                del self._h2[key]
        self._all.discard(conn)
        self._unreserve(key)

    def pool_key(self, req: ClientRequest) -> ConnectionKey:
        """The key of the pool ``req``'s connection comes from."""
        return self._key(req)

    def connect_pooled(
        self, req: ClientRequest, key: ConnectionKey | None = None
    ) -> Connection | None:
        """A pooled connection for ``req`` (whose key may be given) if one is ready now (no
        waiting, no connecting)."""
        if self._closed:
            return None
        if key is None:
            key = self._key(req)
        if self._h2:
            for conn in self._h2.get(key, ()):
                if conn.has_room:
                    return Connection(self, key, conn.open_stream())
        if key not in self._pool or not self._has_room(key):
            return None
        proto = self._take_pooled(key)
        if proto is None:
            return None
        self._acquired_total += 1
        self._acquired[key] = self._acquired.get(key, 0) + 1
        return Connection(self, key, proto)

    async def _wait_for_room(self, key: ConnectionKey, traces: Sequence[Trace]) -> None:
        for trace in traces:
            await trace.send_connection_queued_start()
        while not self._has_room(key) and not (self._h2 and self._h2_has_room(key)):
            waiter = asyncio.get_running_loop().create_future()
            entry = (key, waiter)
            self._waiters.append(entry)
            try:
                await waiter
            except BaseException:
                if entry in self._waiters:
                    self._waiters.remove(entry)
                elif waiter.done() and not waiter.cancelled():
                    self._wake_waiter()  # pass the wake-up on
                raise
        for trace in traces:
            await trace.send_connection_queued_end()

    def _take_pooled(self, key: ConnectionKey) -> H1Connection | None:
        conns = self._pool.get(key)
        if not conns:
            return None
        now = asyncio.get_running_loop().time()
        ttl = self._keepalive_timeout
        while conns:
            proto, stamp = conns.pop()
            transport = proto.transport
            if (
                proto.closed
                or transport is None
                or transport.is_closing()
                or (ttl is not None and now - stamp > ttl)
            ):
                self._close_proto(proto)
                continue
            if not conns:
                del self._pool[key]
            return proto
        del self._pool[key]
        return None

    # releasing -----------------------------------------------------------------------------

    def _unreserve(self, key: ConnectionKey) -> None:
        self._acquired_total -= 1
        left = self._acquired[key] - 1
        if left:
            self._acquired[key] = left
        else:
            del self._acquired[key]
        self._wake_waiter()

    def _wake_waiter(self) -> None:
        for entry in self._waiters:
            key, waiter = entry
            if waiter.done():
                continue
            if self._has_room(key) or (self._h2 and self._h2_has_room(key)):
                self._waiters.remove(entry)
                waiter.set_result(None)
                return

    def _release(self, key: ConnectionKey, proto: Any, reusable: bool) -> None:
        if type(proto) is H2Stream:
            if not reusable:
                proto.close()  # resets the stream if it still runs; the connection stays
            return
        self._unreserve(key)
        if not reusable or self._force_close or self._closed or proto.closed:
            self._close_proto(proto)
            return
        loop = asyncio.get_running_loop()
        self._pool.setdefault(key, []).append((proto, loop.time()))
        if self._cleanup_handle is None and self._keepalive_timeout is not None:
            self._cleanup_handle = loop.call_later(self._keepalive_timeout, self._cleanup)

    def _cleanup(self) -> None:
        self._cleanup_handle = None
        loop = asyncio.get_running_loop()
        ttl = self._keepalive_timeout
        assert ttl is not None
        now = loop.time()
        for key in list(self._pool):
            alive = []
            for proto, stamp in self._pool[key]:
                if proto.closed or now - stamp > ttl:
                    self._close_proto(proto)
                else:
                    alive.append((proto, stamp))
            if alive:
                self._pool[key] = alive
            else:
                del self._pool[key]
        if self._pool:
            self._cleanup_handle = loop.call_later(ttl, self._cleanup)

    def _close_proto(self, proto: H1Connection) -> None:
        proto.close()
        self._all.discard(proto)
        transport = proto.transport
        if (
            self._cleanup_closed
            and not proto.closed
            and transport is not None
            and transport.get_extra_info("sslcontext") is not None
        ):
            # A TLS close waits for the peer's close_notify; a peer that never sends it would
            # keep the socket forever. Abort what is still open after a grace period.
            loop = asyncio.get_running_loop()
            self._closing.append((proto, loop.time() + self._cleanup_closed_period))
            if self._closing_handle is None:
                self._closing_handle = loop.call_later(
                    self._cleanup_closed_period, self._abort_closing
                )

    def _abort_closing(self) -> None:
        self._closing_handle = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting = []
        for proto, deadline in self._closing:
            if proto.closed:
                continue
            if deadline <= now:
                proto.abort()
            else:
                waiting.append((proto, deadline))
        self._closing = waiting
        if waiting:
            self._closing_handle = loop.call_at(waiting[0][1], self._abort_closing)

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close every connection, pooled or in use.

        TLS connections are always aborted (``abort_ssl=True`` in aiohttp's terms): see below.
        """
        if self._closed:
            return
        self._closed = True
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        for proto in list(self._all):
            proto.close()
            transport = proto.transport
            if transport is not None and transport.get_extra_info("sslcontext") is not None:
                # As aiohttp: TLS connections are aborted when the connector closes. A graceful
                # TLS shutdown needs loop turns the caller may never give (asyncio.run returns
                # right after the session closes), which would leave the socket open.
                proto.abort()
        self._all.clear()
        if self._closing_handle is not None:
            self._closing_handle.cancel()
            self._closing_handle = None
        for proto, _ in self._closing:
            proto.abort()
        self._closing.clear()
        self._pool.clear()
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()

    # subclass hooks ------------------------------------------------------------------------

    def _key(self, req: ClientRequest) -> ConnectionKey:
        ssl = req.ssl if req.is_ssl else None
        return ConnectionKey(
            req.url.raw_host or "", req.url.port, req.is_ssl, ssl, req.server_hostname
        )

    async def _create_connection(
        self,
        req: ClientRequest,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
        traces: Sequence[Trace] = (),
    ) -> H1Connection:
        raise NotImplementedError

    async def _open(
        self,
        key: ConnectionKey,
        timeout: ClientTimeout | None,
        opener: Any,
        factory: Any = None,
        **kwargs: Any,
    ) -> H1Connection:
        loop = asyncio.get_running_loop()
        sock_connect = timeout.sock_connect if timeout is not None else None
        if factory is None:
            factory = lambda: H1Connection(loop)  # noqa: E731
        try:
            async with asyncio.timeout(sock_connect):
                _, proto = await opener(factory, **kwargs)
        except TimeoutError:
            raise ConnectionTimeoutError(
                f"Connection timeout to host {key.host}:{key.port}"
            ) from None
        except ssllib.SSLCertVerificationError as exc:
            raise ClientConnectorCertificateError(key, exc) from exc
        except ssllib.SSLError as exc:
            raise ClientConnectorSSLError(key, exc) from exc
        if isinstance(proto, AlpnSwitch):
            proto = proto.chosen
        assert isinstance(proto, H1Connection | H2ClientConnection)
        return proto  # type: ignore[return-value]
