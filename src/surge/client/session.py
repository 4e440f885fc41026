"""``ClientSession``: the client's front door (aiohttp's API).

The session merges its defaults into each request, drives the redirect policy, keeps cookies
and hands exchanges to the connector's connections. A request on a pooled connection that the
server had already closed is sent again, once, on a fresh connection when that is safe
(idempotent method, replayable body, nothing received yet).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterable
from types import TracebackType
from typing import Any

from multidict import CIMultiDict, istr
from yarl import URL

from surge.client.auth import BasicAuth
from surge.client.connection.h1 import H1Connection
from surge.client.connector import BaseConnector, TCPConnector
from surge.client.cookiejar import AbstractCookieJar, CookieJar
from surge.client.exceptions import (
    ClientResponseError,
    ConnectionTimeoutError,
    ServerDisconnectedError,
    ServerTimeoutError,
)
from surge.client.policies.redirects import follow_redirects
from surge.client.request import (
    ClientRequest,
    apply_params,
    build_url,
    check_headers,
    default_headers,
    make_body,
)
from surge.client.response import ClientResponse
from surge.client.timeouts import DEFAULT_TIMEOUT, ClientTimeout
from surge.http.content.codecs import DEFAULT_MAX_DECOMPRESSED_SIZE
from surge.http.errors import HttpProtocolError

__all__ = ["ClientSession", "request"]

_SENTINEL: Any = object()


class _RequestContextManager:
    """What ``session.get()`` returns: awaitable, and an async context manager that
    releases the response on exit."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse]) -> None:
        self._coro = coro
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()

    async def __aenter__(self) -> ClientResponse:
        self._resp = await self._coro
        return self._resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._resp is not None
        self._resp.release()


def _single(req: ClientRequest) -> Generator[ClientRequest, Any, None]:
    yield req


class ClientSession:
    """A pool of connections and shared defaults for many requests.

    ``async with ClientSession(base_url="http://api", timeout=ClientTimeout(total=30)) as s:``
    ``    async with s.get("/users/1") as resp: data = await resp.json()``
    """

    _connector: BaseConnector | None = None  # so __del__ works when __init__ failed

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        connector: BaseConnector | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        cookies: Any = None,
        headers: Any = None,
        proxy: Any = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: Callable[[Any], str] = jsonlib.dumps,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] = False,
        timeout: ClientTimeout | None = _SENTINEL,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[Any] | None = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        middlewares: Iterable[Any] = (),
        ssl: Any = True,
        max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(f"ClientSession got unsupported arguments: {sorted(unsupported)}")
        if proxy is not None:
            raise NotImplementedError("HTTP proxies are not supported yet")
        if tuple(middlewares):
            raise NotImplementedError("client middlewares are not supported yet")
        if base_url is None or isinstance(base_url, URL):
            self._base_url: URL | None = base_url
        else:
            self._base_url = URL(base_url)
        if self._base_url is not None and not self._base_url.is_absolute():
            raise ValueError("base_url must be an absolute URL")
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers or ())
        check_headers(self._default_headers.items())
        self._cookie_jar = cookie_jar if cookie_jar is not None else CookieJar()
        if cookies is not None:
            self._cookie_jar.update_cookies(cookies)
        self._connector = connector if connector is not None else TCPConnector()
        self._connector_owner = connector_owner
        self._skip_auto_headers = frozenset(istr(h) for h in skip_auto_headers or ())
        self._default_auth = auth
        self._json_serialize = json_serialize
        self._raise_for_status = raise_for_status
        if timeout is _SENTINEL or timeout is None:
            timeout = DEFAULT_TIMEOUT
        if not isinstance(timeout, ClientTimeout):
            raise ValueError(
                f"timeout parameter cannot be of {type(timeout)} type, please use 'timeout=ClientTimeout(...)'"
            )
        self._timeout: ClientTimeout = timeout
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        self._trace_configs = trace_configs or []
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._ssl = ssl
        self._max_decompressed_size = max_decompressed_size
        self._closed = False

    def __repr__(self) -> str:
        return f"<ClientSession base_url={self._base_url!s} closed={self.closed}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if not self.closed:
            _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)

    # properties ----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._connector is None or self._connector.closed

    @property
    def connector(self) -> BaseConnector | None:
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        return self._cookie_jar

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._default_headers

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def auth(self) -> BasicAuth | None:
        return self._default_auth

    @property
    def skip_auto_headers(self) -> frozenset[istr]:
        return self._skip_auto_headers

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        return self._json_serialize

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def raise_for_status(self) -> bool | Callable[[ClientResponse], Awaitable[None]]:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def trace_configs(self) -> list[Any]:
        return self._trace_configs

    # life cycle ----------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the session (and its connector when the session owns it)."""
        if not self.closed:
            assert self._connector is not None
            if self._connector_owner:
                await self._connector.close()
            self._connector = None

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # verbs ---------------------------------------------------------------------------------

    def request(self, method: str, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        """Send ``method`` to ``url``; see :meth:`get` for the options."""
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request("GET", url, allow_redirects=allow_redirects, **kwargs)
        )

    def options(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(
        self, url: str | URL, *, allow_redirects: bool = False, **kwargs: Any
    ) -> _RequestContextManager:
        return _RequestContextManager(
            self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs)
        )

    def post(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("DELETE", url, **kwargs))

    def ws_connect(self, url: str | URL, **kwargs: Any) -> Any:
        """Open a WebSocket: ``async with session.ws_connect(url) as ws: ...``."""
        from surge.client.websocket import ws_connect

        return ws_connect(self, url, **kwargs)

    def sse(self, url: str | URL, **kwargs: Any) -> Any:
        """Read Server-Sent Events: ``async with session.sse(url) as events: ...``."""
        from surge.client.sse import EventSource

        return EventSource(url, session=self, **kwargs)

    # the exchange --------------------------------------------------------------------------

    def _merge_headers(self, headers: Any, skip: frozenset[istr]) -> CIMultiDict[str]:
        merged: CIMultiDict[str] = CIMultiDict()
        for name, value in default_headers().items():
            if name not in skip:
                merged[name] = value
        if self._default_headers:
            merged.update(self._default_headers)
        if headers:
            extra = CIMultiDict(headers)
            check_headers(extra.items())
            # A request header replaces the session's of the same name (all of its values).
            for name in set(extra.keys()):
                merged.popall(name, None)
            merged.extend(extra)
        return merged

    async def _request(
        self,
        method: str,
        str_or_url: str | URL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] | None = None,
        read_until_eof: bool = True,
        proxy: Any = None,
        proxy_auth: BasicAuth | None = None,
        timeout: ClientTimeout | None = _SENTINEL,
        ssl: Any = True,
        server_hostname: str | None = None,
        proxy_headers: Any = None,
        trace_request_ctx: Any = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
        content_type: str | None = None,
    ) -> ClientResponse:
        if self.closed:
            raise RuntimeError("Session is closed")
        if proxy is not None:
            raise NotImplementedError("HTTP proxies are not supported yet")
        url = apply_params(build_url(str_or_url, self._base_url), params)
        skip = self._skip_auto_headers
        if skip_auto_headers is not None:
            skip = skip | {istr(h) for h in skip_auto_headers}
        merged = self._merge_headers(headers, skip)
        payload = make_body(data, json, content_type, self._json_serialize)
        if content_type is not None and (json is not None or data is not None):
            merged["Content-Type"] = content_type
        if compress is True:
            compress = "deflate"
        if ssl is True and self._ssl is not True:
            ssl = self._ssl
        tm = self._timeout if timeout is _SENTINEL or timeout is None else timeout
        if not isinstance(tm, ClientTimeout):
            raise ValueError("timeout must be a ClientTimeout")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + tm.total if tm.total else None
        req = ClientRequest(
            method,
            url,
            headers=merged,
            payload=payload,
            auth=auth or self._default_auth,
            ssl=ssl,
            server_hostname=server_hostname,
            compress=compress or None,
            chunked=chunked,
            expect100=expect100,
        )
        options = (
            skip,
            cookies,
            read_bufsize or self._read_bufsize,
            self._auto_decompress if auto_decompress is None else auto_decompress,
            max_line_size or self._max_line_size,
            max_field_size or self._max_field_size,
            max_headers or self._max_headers,
            read_until_eof,
        )
        policy = follow_redirects(req, max_redirects) if allow_redirects else _single(req)
        history: list[ClientResponse] = []
        try:
            async with asyncio.timeout_at(deadline):
                current = next(policy)
                while True:
                    resp = await self._send(current, tm, deadline, options)
                    try:
                        current = policy.send(resp)
                    except StopIteration:
                        break
                    except BaseException:
                        resp.release()
                        raise
                    resp.release()
                    history.append(resp)
        except TimeoutError as exc:
            if isinstance(exc, ServerTimeoutError):
                raise
            raise ServerTimeoutError(f"Request to {url} timed out after {tm.total}s") from exc
        resp._history = tuple(history)
        check = self._raise_for_status if raise_for_status is None else raise_for_status
        if check is True:
            resp.raise_for_status()
        elif callable(check):
            await check(resp)
        return resp

    def _cookie_header(self, url: URL, extra: Any) -> str | None:
        jar_cookies = self._cookie_jar.filter_cookies(url)
        if extra:
            tmp = CookieJar()
            tmp.update_cookies(extra)
            for name, morsel in tmp.filter_cookies(url).items():
                dict.__setitem__(jar_cookies, name, morsel)
        if not jar_cookies:
            return None
        return "; ".join(m.OutputString() for m in jar_cookies.values())

    async def _send(
        self,
        req: ClientRequest,
        tm: ClientTimeout,
        deadline: float | None,
        options: tuple[Any, ...],
    ) -> ClientResponse:
        (
            skip,
            cookies,
            read_bufsize,
            auto_decompress,
            max_line,
            max_field,
            max_headers,
            until_eof,
        ) = options
        headers = req.headers
        if "Host" not in headers and "Host" not in skip:
            # Host goes first, as RFC 9112 recommends.
            fresh: CIMultiDict[str] = CIMultiDict(Host=req.host_header())
            fresh.extend(headers)
            req.headers = headers = fresh
        if req.auth is not None and "Authorization" not in headers:
            headers["Authorization"] = req.auth.encode()
        cookie = self._cookie_header(req.url, cookies)
        if cookie is not None:
            headers["Cookie"] = cookie
        head, body, stream = req.serialize_head()
        assert self._connector is not None
        connector = self._connector
        retry_ok = req.idempotent and req.payload.replayable
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(tm.connect):
                    conn = await connector.connect(req, None, tm, fresh=attempt > 0)
            except TimeoutError as exc:
                if isinstance(exc, ConnectionTimeoutError):
                    raise
                raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc
            proto = conn.protocol
            assert proto is not None
            reused = proto.reused > 0
            try:
                started = await self._exchange(
                    proto,
                    req,
                    head,
                    body,
                    stream,
                    tm,
                    (read_bufsize, auto_decompress, max_line, max_field, max_headers, until_eof),
                )
            except ServerDisconnectedError:
                conn.close()
                if reused and retry_ok and attempt == 0 and not proto.got_bytes:
                    attempt += 1
                    continue
                raise
            except HttpProtocolError as err:
                conn.close()
                raise ClientResponseError(
                    req.request_info, (), status=400, message=f"Malformed response: {err.message}"
                ) from None
            except BaseException:
                conn.close()
                raise
            break
        rhead, content = started
        resp = ClientResponse(
            req.method,
            req.original_url,
            status=rhead.status,
            reason=rhead.reason,
            version=rhead.version,
            raw_headers=rhead.headers,
            content=content,
            request_info=req.request_info,
            connection=conn if conn.protocol is not None else None,
        )
        if deadline is not None and conn.protocol is not None:
            proto.set_deadline(deadline)
        if resp.headers.get("Set-Cookie") is not None:
            self._cookie_jar.update_cookies(resp.cookies, resp.url)
        return resp

    async def _exchange(
        self,
        proto: H1Connection,
        req: ClientRequest,
        head: bytes,
        body: bytes | None,
        stream: AsyncIterator[bytes] | None,
        tm: ClientTimeout,
        limits: tuple[int, bool, int, int, int, bool],
    ) -> Any:
        read_bufsize, auto_decompress, max_line, max_field, max_headers, until_eof = limits
        expect = req.expect100 and (body is not None or stream is not None)
        first = head + body if body is not None and not expect else head
        waiter = proto.start(
            first,
            head_request=req.method == "HEAD",
            max_line_size=max_line,
            max_field_size=max_field,
            max_headers=max_headers,
            read_bufsize=read_bufsize,
            auto_decompress=auto_decompress,
            max_decompressed=self._max_decompressed_size,
            sock_read=tm.sock_read,
            expect_continue=expect,
            read_until_eof=until_eof,
        )
        try:
            if expect:
                await proto.wait_continue()
                if waiter.done():
                    return waiter.result()  # a final answer instead of 100: no body is sent
                if body is not None:
                    proto.write(body)
            if stream is not None:
                async for chunk in stream:
                    if waiter.done():
                        break  # the server answered early; it will not read the rest
                    proto.write(chunk)
                    await proto.drain()
        except ServerDisconnectedError:
            if waiter.done() and waiter.exception() is None:
                return waiter.result()
            raise
        return await waiter


class _SessionRequestContextManager:
    """``surge.request(...)``: a one-shot session closed with the response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._session = session
        self._resp: ClientResponse | None = None

    async def _run(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._await_and_read().__await__()

    async def _await_and_read(self) -> ClientResponse:
        resp = await self._run()
        try:
            await resp.read()
        finally:
            await self._session.close()
        return resp

    async def __aenter__(self) -> ClientResponse:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        if self._resp is not None:
            self._resp.release()
        await self._session.close()


def request(
    method: str,
    url: str | URL,
    *,
    connector: BaseConnector | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """One request with a throw-away session: ``async with surge.request("GET", url) as r:``."""
    session_kwargs = {
        k: kwargs.pop(k)
        for k in (
            "cookies",
            "version",
            "timeout",
            "connector_owner",
            "cookie_jar",
            "read_bufsize",
            "max_line_size",
            "max_field_size",
        )
        if k in kwargs
    }
    if connector is None:
        connector = TCPConnector(force_close=True)
    session = ClientSession(connector=connector, **session_kwargs)
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
