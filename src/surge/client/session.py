"""``ClientSession``: the client's front door (aiohttp's API).

This module is the session's public face: its constructor (every option checked and stored
once), properties, life cycle and verbs. What a call does is in two parts it inherits:
:mod:`surge.client.session_defaults` merges the session's defaults into a call (headers,
cached URL targets, send options) and :mod:`surge.client.session_send` sends it (the lean
path, the general path with redirects, retries, middlewares and tracing, and the innermost
hop). They are base classes rather than helper objects so that a request pays no extra
attribute hop or call for the split.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, cast

from multidict import CIMultiDict, getversion, istr
from yarl import URL

from surge.client.auth import BasicAuth
from surge.client.connector import BaseConnector, TCPConnector
from surge.client.context import _RequestContextManager, request
from surge.client.cookiejar import AbstractCookieJar, CookieJar
from surge.client.deprecated import SENTINEL, merge_timeouts, warn_ssl_shutdown_timeout
from surge.client.exchange import Progress
from surge.client.middlewares import ClientHandlerType, ClientMiddlewareType, build_chain
from surge.client.policies.retry import RetryOptions
from surge.client.proxy import proxy_url
from surge.client.request import ClientRequest, Target, check_headers
from surge.client.response import CharsetResolver, ClientResponse
from surge.client.session_send import Hop, SessionSender
from surge.client.timeouts import ClientTimeout
from surge.client.tracing import TraceConfig
from surge.http.content.codecs import DEFAULT_MAX_DECOMPRESSED_SIZE
from surge.http.version import HttpVersion11

__all__ = ["ClientSession", "request"]


class ClientSession(SessionSender):
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
        json_serialize_bytes: Callable[[Any], bytes] | None = None,
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        ws_response_class: type[Any] | None = None,
        version: Any = None,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] = False,
        read_timeout: float | None = SENTINEL,
        conn_timeout: float | None = None,
        timeout: ClientTimeout | None = SENTINEL,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[TraceConfig] | None = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: CharsetResolver | None = None,
        middlewares: Sequence[ClientMiddlewareType] = (),
        ssl: Any = True,
        max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        retry: RetryOptions | None = None,
        on_upload_progress: Progress | None = None,
        on_download_progress: Progress | None = None,
        http2: bool | str | None = None,
        ssl_shutdown_timeout: float | None = SENTINEL,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(f"ClientSession got unsupported arguments: {sorted(unsupported)}")
        # Checked before the connector exists, so a bad argument leaves nothing to close.
        self._timeout: ClientTimeout = merge_timeouts(timeout, read_timeout, conn_timeout)
        warn_ssl_shutdown_timeout(ssl_shutdown_timeout)
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
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        self._loop = loop
        self._version = version
        self._requote_redirect_url = requote_redirect_url
        self._json_serialize_bytes = json_serialize_bytes
        self._request_class = request_class
        self._response_class = response_class
        if ws_response_class is None:
            from surge.client.websocket import ClientWebSocketResponse

            ws_response_class = ClientWebSocketResponse
        self._ws_response_class = ws_response_class
        # None stands for aiohttp's default resolver (UTF-8): responses then need no link back.
        self._resolve_charset = fallback_charset_resolver
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
        self._handler: ClientHandlerType = build_chain(Hop(self), self._middlewares)
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

    @property
    def version(self) -> Any:
        """The HTTP version asked for (``HttpVersion11`` unless given)."""
        return self._version if self._version is not None else HttpVersion11

    @property
    def requote_redirect_url(self) -> bool:
        """Whether a redirect's ``Location`` is re-quoted (True) or sent as written."""
        return self._requote_redirect_url

    @requote_redirect_url.setter
    def requote_redirect_url(self, value: bool) -> None:
        warnings.warn(
            "session.requote_redirect_url modification is deprecated #2778",
            DeprecationWarning,
            stacklevel=2,
        )
        self._requote_redirect_url = value

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the session was created in (deprecated in aiohttp)."""
        warnings.warn("client.loop property is deprecated", DeprecationWarning, stacklevel=2)
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_event_loop()
        return loop

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
