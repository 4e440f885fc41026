"""``ClientSession``: the client's front door (aiohttp's API).

The session merges its defaults into each request and drives the hops: the redirect policy
(:mod:`surge.client.policies.redirects`) around the retry policy
(:mod:`surge.client.policies.retry`) around the middleware chain, whose innermost handler
sends one hop (:mod:`surge.client.exchange`). Tracing callbacks, when configured, hear of
every step; without them the hot path does not look at them.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import warnings
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, cast

from multidict import CIMultiDict, getversion, istr
from yarl import URL

from surge.client.auth import BasicAuth
from surge.client.connector import BaseConnector, TCPConnector
from surge.client.context import _RequestContextManager, request
from surge.client.cookiejar import AbstractCookieJar, CookieJar
from surge.client.driver import run_hops
from surge.client.exceptions import ServerTimeoutError
from surge.client.exchange import Progress, SendOptions, send_request
from surge.client.middlewares import ClientHandlerType, ClientMiddlewareType, build_chain
from surge.client.policies.redirects import REDIRECT_STATUSES, follow_redirects
from surge.client.policies.retry import RetryOptions
from surge.client.proxy import netrc_auth, proxy_url
from surge.client.request import (
    NO_LENGTH_METHODS,
    ClientRequest,
    Target,
    apply_params,
    build_url,
    check_headers,
    default_headers,
    host_header,
    make_body,
)
from surge.client.response import ClientResponse
from surge.client.timeouts import DEFAULT_TIMEOUT, ClientTimeout
from surge.client.tracing import Trace, TraceConfig
from surge.http.content.codecs import DEFAULT_MAX_DECOMPRESSED_SIZE

__all__ = ["ClientSession", "request"]

_SENTINEL: Any = object()


class _Hop:
    """The innermost handler of a session's middleware chain: one hop on the wire."""

    __slots__ = ("_session",)

    def __init__(self, session: ClientSession) -> None:
        self._session = weakref.ref(session)

    def __call__(self, req: ClientRequest) -> Awaitable[ClientResponse]:
        session = self._session()
        if session is None:
            raise RuntimeError("Session is closed")
        return session._send_hop(req)


def _single(req: ClientRequest) -> Generator[ClientRequest, Any, None]:
    yield req


class ClientSession:
    """A pool of connections and shared defaults for many requests.

    ``async with ClientSession(base_url="http://api", timeout=ClientTimeout(total=30)) as s:``
    ``    async with s.get("/users/1") as resp: data = await resp.json()``

    Beyond aiohttp: ``retry=RetryOptions(...)`` retries idempotent requests on connection
    errors and 429/5xx answers; ``on_upload_progress``/``on_download_progress`` are called
    with ``(bytes_so_far, total_or_None)``. HTTP/2 is negotiated by ALPN on https URLs
    (``http2=False`` turns it off; ``http2="prior_knowledge"`` uses it on http URLs too);
    concurrent requests to one origin then share a connection as streams.
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
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: Callable[[Any], str] = jsonlib.dumps,
        version: Any = None,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] = False,
        timeout: ClientTimeout | None = _SENTINEL,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[TraceConfig] | None = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        middlewares: Sequence[ClientMiddlewareType] = (),
        ssl: Any = True,
        max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        retry: RetryOptions | None = None,
        on_upload_progress: Progress | None = None,
        on_download_progress: Progress | None = None,
        http2: bool | str | None = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(f"ClientSession got unsupported arguments: {sorted(unsupported)}")
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
        if http2 is not None:
            # HTTP/2 by ALPN on https (True, the default), by prior knowledge also on
            # http ("prior_knowledge"), or never (False); set on the session's connector.
            if http2 not in (True, False, "prior_knowledge"):
                raise ValueError('http2 must be True, False or "prior_knowledge"')
            self._connector._http2 = http2
        self._connector_owner = connector_owner
        self._skip_auto_headers = frozenset(istr(h) for h in skip_auto_headers or ())
        self._base_headers = self._build_base_headers()
        self._headers_version = getversion(cast(Any, self._default_headers))
        self._targets: dict[str, Target] = {}  # URL string -> what it means on the wire
        self._default_auth = auth
        self._default_proxy = proxy_url(proxy, proxy_auth) if proxy is not None else None
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
        for config in self._trace_configs:
            config.freeze()
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._ssl = ssl
        self._max_decompressed_size = max_decompressed_size
        self._retry = retry
        self._upload_progress = on_upload_progress
        self._download_progress = on_download_progress
        self._middlewares = tuple(middlewares)
        # The chain reaches the session through a weak reference: a session leaked without
        # close() is then freed (and warns) as soon as it is dropped, not at some later GC.
        self._handler: ClientHandlerType = build_chain(_Hop(self), self._middlewares)
        self._default_options = self._options(
            skip=self._skip_auto_headers,
            cookies=None,
            read_bufsize=None,
            auto_decompress=None,
            max_line_size=None,
            max_field_size=None,
            max_headers=None,
            read_until_eof=True,
            timeout=self._timeout,
            traces=(),
            on_upload_progress=None,
            on_download_progress=None,
        )
        # Calls without per-call options can take the lean path when the session wraps
        # nothing around the hop.
        self._plain_ok = not (
            self._middlewares
            or self._trace_configs
            or retry is not None
            or trust_env
            or self._default_proxy is not None
            or auth is not None
        )
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
        if kwargs:
            return _RequestContextManager(self._request(method, url, **kwargs))
        return self._plain(method, url, True)

    def get(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        if kwargs:
            return _RequestContextManager(
                self._request("GET", url, allow_redirects=allow_redirects, **kwargs)
            )
        return self._plain("GET", url, allow_redirects)

    def options(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> _RequestContextManager:
        if kwargs:
            return _RequestContextManager(
                self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)
            )
        return self._plain("OPTIONS", url, allow_redirects)

    def head(
        self, url: str | URL, *, allow_redirects: bool = False, **kwargs: Any
    ) -> _RequestContextManager:
        if kwargs:
            return _RequestContextManager(
                self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs)
            )
        return self._plain("HEAD", url, allow_redirects)

    def post(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(self, url: str | URL, *, data: Any = None, **kwargs: Any) -> _RequestContextManager:
        return _RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: str | URL, **kwargs: Any) -> _RequestContextManager:
        if kwargs:
            return _RequestContextManager(self._request("DELETE", url, **kwargs))
        return self._plain("DELETE", url, True)

    @property
    def middlewares(self) -> tuple[ClientMiddlewareType, ...]:
        return self._middlewares

    def ws_connect(self, url: str | URL, **kwargs: Any) -> Any:
        """Open a WebSocket: ``async with session.ws_connect(url) as ws: ...``."""
        from surge.client.websocket import ws_connect

        return ws_connect(self, url, **kwargs)

    def sse(self, url: str | URL, **kwargs: Any) -> Any:
        """Read Server-Sent Events: ``async with session.sse(url) as events: ...``."""
        from surge.client.sse import EventSource

        return EventSource(url, session=self, **kwargs)

    # the request ---------------------------------------------------------------------------

    def _build_base_headers(self) -> CIMultiDict[str]:
        """The automatic headers less the skipped ones, then the session's: built once."""
        skip = self._skip_auto_headers
        merged: CIMultiDict[str] = CIMultiDict(
            (name, value) for name, value in default_headers().items() if name not in skip
        )
        for name in set(self._default_headers.keys()):
            merged.popall(name, None)
        merged.extend(self._default_headers)
        return merged

    def _target(self, raw: str) -> Target:
        """``raw`` resolved against ``base_url`` and checked; cached per session."""
        if getversion(cast(Any, self._default_headers)) != self._headers_version:
            # session.headers was changed in place: later requests send the new headers.
            check_headers(self._default_headers.items())
            self._base_headers = self._build_base_headers()
            self._headers_version = getversion(cast(Any, self._default_headers))
            self._targets.clear()
        target = self._targets.get(raw)
        if target is None:
            target = Target(build_url(raw, self._base_url), self._base_headers)
            if len(self._targets) >= 512:
                self._targets.clear()  # many distinct URLs: keep the cache bounded
            self._targets[raw] = target
        return target

    def _options(
        self,
        *,
        skip: frozenset[istr],
        cookies: Any,
        read_bufsize: int | None,
        auto_decompress: bool | None,
        max_line_size: int | None,
        max_field_size: int | None,
        max_headers: int | None,
        read_until_eof: bool,
        timeout: ClientTimeout,
        traces: Sequence[Trace],
        on_upload_progress: Progress | None,
        on_download_progress: Progress | None,
    ) -> SendOptions:
        return SendOptions(
            skip=skip,
            cookies=cookies,
            read_bufsize=read_bufsize or self._read_bufsize,
            auto_decompress=self._auto_decompress if auto_decompress is None else auto_decompress,
            max_line=max_line_size or self._max_line_size,
            max_field=max_field_size or self._max_field_size,
            max_headers=max_headers or self._max_headers,
            read_until_eof=read_until_eof,
            max_decompressed=self._max_decompressed_size,
            timeout=timeout,
            traces=traces,
            upload_progress=on_upload_progress or self._upload_progress,
            download_progress=on_download_progress or self._download_progress,
        )

    def _merge_headers(self, url: URL, headers: Any, skip: frozenset[istr]) -> CIMultiDict[str]:
        # Host goes first, as RFC 9112 recommends; then the automatic and session headers.
        merged: CIMultiDict[str] = CIMultiDict()
        if "Host" not in skip:
            merged["Host"] = host_header(url)
        if skip is self._skip_auto_headers:
            merged.extend(self._base_headers)
        else:
            for name, value in default_headers().items():
                if name not in skip:
                    merged[name] = value
            if self._default_headers:
                for name in set(self._default_headers.keys()):
                    merged.popall(name, None)
                merged.extend(self._default_headers)
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
        proxy: str | URL | None = None,
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
        middlewares: Sequence[ClientMiddlewareType] | None = None,
        retry: RetryOptions | None = _SENTINEL,
        on_upload_progress: Progress | None = None,
        on_download_progress: Progress | None = None,
    ) -> ClientResponse:
        if self.closed:
            raise RuntimeError("Session is closed")
        target: Target | None = None
        if params is None and type(str_or_url) is str:
            target = self._target(str_or_url)
            url = target.url
        else:
            url = apply_params(build_url(str_or_url, self._base_url), params)
        skip = self._skip_auto_headers
        if skip_auto_headers is not None:
            skip = skip | {istr(h) for h in skip_auto_headers}
        merged: CIMultiDict[str] | None = None
        if headers or skip is not self._skip_auto_headers or content_type is not None:
            target = None
        if target is None or target.headers is None:
            merged = self._merge_headers(url, headers, skip)
            target = None
        payload = make_body(data, json, content_type, self._json_serialize)
        if content_type is not None and (json is not None or data is not None):
            assert merged is not None
            merged["Content-Type"] = content_type
        if compress is True:
            compress = "deflate"
        if ssl is True and self._ssl is not True:
            ssl = self._ssl
        tm = self._timeout if timeout is _SENTINEL or timeout is None else timeout
        if not isinstance(tm, ClientTimeout):
            raise ValueError("timeout must be a ClientTimeout")
        if auth is None:
            auth = self._default_auth
        if auth is None and self._trust_env:
            known = merged if merged is not None else target.headers if target else None
            if known is None or "Authorization" not in known:
                auth = netrc_auth(url.host)
        req = ClientRequest(
            method,
            url,
            headers=merged,
            payload=payload,
            auth=auth,
            ssl=ssl,
            server_hostname=server_hostname,
            compress=compress or None,
            chunked=chunked,
            expect100=expect100,
            target=target,
        )
        req.session = self
        total = tm.total
        deadline = req.deadline = asyncio.get_running_loop().time() + total if total else None
        if proxy is not None:
            req.proxy, req.proxy_auth = proxy_url(proxy, proxy_auth)
        elif self._default_proxy is not None:
            req.proxy, req.proxy_auth = self._default_proxy
        if proxy_headers:
            req.proxy_headers = CIMultiDict(proxy_headers)
        traces: Sequence[Trace] = ()
        if self._trace_configs:
            traces = [
                Trace(self, config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx))
                for config in self._trace_configs
            ]
        if (
            skip is self._skip_auto_headers
            and cookies is None
            and read_bufsize is None
            and auto_decompress is None
            and max_line_size is None
            and max_field_size is None
            and max_headers is None
            and read_until_eof
            and tm is self._timeout
            and not traces
            and on_upload_progress is None
            and on_download_progress is None
        ):
            req.options = self._default_options
        else:
            req.options = self._options(
                skip=skip,
                cookies=cookies,
                read_bufsize=read_bufsize,
                auto_decompress=auto_decompress,
                max_line_size=max_line_size,
                max_field_size=max_field_size,
                max_headers=max_headers,
                read_until_eof=read_until_eof,
                timeout=tm,
                traces=traces,
                on_upload_progress=on_upload_progress,
                on_download_progress=on_download_progress,
            )
        if middlewares is None:
            handler = self._handler
        else:
            handler = build_chain(self._send_hop, tuple(middlewares))
        retry_options = self._retry if retry is _SENTINEL else retry
        if traces:
            for trace in traces:
                await trace.send_request_start(method, url, req.headers)
        env_proxy = self._trust_env and req.proxy is None
        # The connection enforces the deadline while connecting and exchanging; only user code
        # (middlewares, trace callbacks) and retry pauses need a timeout around everything.
        outer = handler is not self._handler or self._middlewares or retry_options or traces
        try:
            if outer:
                policy = follow_redirects(req, max_redirects) if allow_redirects else _single(req)
                async with asyncio.timeout_at(deadline):
                    resp, history = await run_hops(
                        policy, handler, retry_options, traces, env_proxy
                    )
            elif env_proxy:
                policy = follow_redirects(req, max_redirects) if allow_redirects else _single(req)
                resp, history = await run_hops(policy, handler, None, (), env_proxy)
            else:
                # The common call: one hop straight on the connection, the redirect policy
                # only consulted for a redirect status.
                connector = self._connector
                assert connector is not None
                resp = await send_request(connector, self._cookie_jar, req)
                history = []
                if allow_redirects and resp.status in REDIRECT_STATUSES:
                    policy = follow_redirects(req, max_redirects)
                    resp, history = await run_hops(policy, handler, None, (), False, first=resp)
        except BaseException as exc:
            error: BaseException = exc
            if isinstance(exc, TimeoutError) and not isinstance(exc, ServerTimeoutError):
                error = ServerTimeoutError(f"Request to {url} timed out after {tm.total}s")
                error.__cause__ = exc
            if traces:
                for trace in traces:
                    await trace.send_request_exception(method, url, req.headers, error)
            if error is exc:
                raise
            raise error from exc
        if history:
            resp._history = tuple(history)
        check = self._raise_for_status if raise_for_status is None else raise_for_status
        if check is True:
            resp.raise_for_status()
        elif check and callable(check):
            await check(resp)
        if traces:
            for trace in traces:
                await trace.send_request_end(method, url, req.headers, resp)
        return resp

    def _plain(
        self, method: str, str_or_url: str | URL, allow_redirects: bool
    ) -> _RequestContextManager:
        """What a call without per-call options returns. When the session adds nothing
        either (no middlewares, tracing, retries, proxy, auth, environment), one lean
        coroutine builds the request from the URL's cached target and sends it."""
        if self._plain_ok and type(str_or_url) is str:
            cm = _RequestContextManager(None, direct=True)
            cm._coro = self._send_plain(method, str_or_url, allow_redirects, cm)
            return cm
        return _RequestContextManager(
            self._request(method, str_or_url, allow_redirects=allow_redirects)
        )

    async def _send_plain(
        self, method: str, raw_url: str, allow_redirects: bool, cm: _RequestContextManager
    ) -> ClientResponse:
        connector = self._connector
        target = None
        if connector is not None and not connector.closed:
            try:
                target = self._target(raw_url)
            except Exception:
                target = None  # the general path raises it
        if target is None or target.headers is None:
            resp = await self._request(method, raw_url, allow_redirects=allow_redirects)
            cm._resp = resp
            return resp
        assert connector is not None
        req = ClientRequest(method, target.url, ssl=self._ssl, target=target)
        req.session = self
        req.options = self._default_options
        total = self._timeout.total
        if total:
            req.deadline = asyncio.get_running_loop().time() + total
        checked = self._ssl is True and method in NO_LENGTH_METHODS
        try:
            resp = await send_request(connector, self._cookie_jar, req, checked)
            if allow_redirects and resp.status in REDIRECT_STATUSES:
                policy = follow_redirects(req, 10)
                resp, history = await run_hops(policy, self._handler, None, (), False, resp)
                resp._history = tuple(history)
        except TimeoutError as exc:
            if isinstance(exc, ServerTimeoutError):
                raise
            raise ServerTimeoutError(f"Request to {req.url} timed out after {total}s") from exc
        check = self._raise_for_status
        if check is True:
            resp.raise_for_status()
        elif check and callable(check):
            await check(resp)
        cm._resp = resp
        return resp

    def _send_hop(self, req: ClientRequest) -> Awaitable[ClientResponse]:
        """The innermost handler of the middleware chain: one hop on the wire."""
        if self._connector is None:
            raise RuntimeError("Session is closed")
        return send_request(self._connector, self._cookie_jar, req)
