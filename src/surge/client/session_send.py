"""How a session sends one call: the lean path for calls without options, the general
path for the rest, and the innermost handler of the middleware chain.

The general path builds the :class:`ClientRequest` from the call's options and the
session's defaults, then drives the hops: the redirect policy
(:mod:`surge.client.policies.redirects`) around the retry policy
(:mod:`surge.client.policies.retry`) around the middleware chain, whose innermost handler
sends one hop (:mod:`surge.client.exchange`). A call that nothing wraps goes straight to the
connection and consults the redirect policy only for a redirect status. Tracing callbacks,
when configured, hear of every step; without them the hot path does not look at them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from typing import Any

from multidict import CIMultiDict, istr
from yarl import URL

from surge.client.auth import BasicAuth
from surge.client.connector import BaseConnector
from surge.client.context import _RequestContextManager
from surge.client.cookiejar import AbstractCookieJar
from surge.client.deprecated import merge_ssl
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
    make_body,
)
from surge.client.response import ClientResponse
from surge.client.session_defaults import SessionDefaults
from surge.client.timeouts import ClientTimeout
from surge.client.tracing import Trace, TraceConfig

__all__ = ["Hop", "SessionSender"]

_SENTINEL: Any = object()


class Hop:
    """The innermost handler of a session's middleware chain: one hop on the wire."""

    __slots__ = ("_session",)

    def __init__(self, session: SessionSender) -> None:
        self._session = weakref.ref(session)

    def __call__(self, req: ClientRequest) -> Awaitable[ClientResponse]:
        session = self._session()
        if session is None:
            raise RuntimeError("Session is closed")
        return session._send_hop(req)


def _single(req: ClientRequest) -> Generator[ClientRequest, Any, None]:
    yield req


class SessionSender(SessionDefaults):
    """The part of :class:`~surge.client.session.ClientSession` that sends a call (the
    session's constructor sets these attributes)."""

    _connector: BaseConnector | None
    _cookie_jar: AbstractCookieJar
    _default_auth: BasicAuth | None
    _default_proxy: tuple[URL, BasicAuth | None] | None
    _json_serialize: Callable[[Any], str]
    _json_serialize_bytes: Callable[[Any], bytes] | None
    _request_class: type[ClientRequest]
    _raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]]
    _timeout: ClientTimeout
    _trust_env: bool
    _trace_configs: list[TraceConfig]
    _ssl: Any
    _retry: RetryOptions | None
    _middlewares: tuple[ClientMiddlewareType, ...]
    _handler: ClientHandlerType
    _default_options: SendOptions
    _plain_ok: bool

    @property
    def closed(self) -> bool:
        return self._connector is None or self._connector.closed

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
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: Any = None,
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
        upload_tracker: Progress | None = None,
    ) -> ClientResponse:
        if self.closed:
            raise RuntimeError("Session is closed")
        if verify_ssl is not None or fingerprint is not None or ssl_context is not None:
            ssl = merge_ssl(ssl, verify_ssl, ssl_context, fingerprint, stacklevel=4)
        if upload_tracker is not None:
            # aiohttp 3.14's UploadTracker is called like an on_upload_progress callback.
            on_upload_progress = upload_tracker
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
        payload = make_body(
            data, json, content_type, self._json_serialize, self._json_serialize_bytes
        )
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
        req = self._request_class(
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
        req = self._request_class(method, target.url, ssl=self._ssl, target=target)
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
