"""BaseRequest and Request: what handlers receive.

Construction is cheap: the head stays as raw ``(bytes, bytes)`` pairs and the headers proxy,
URL, query and cookies are built on first access. The body is read once and cached.
The hot path (``Application._make_request``) sets instance attributes directly on
``object.__new__(Request)``; the per-request defaults it relies on are class attributes here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

from surge.http.h1.parser import RequestHead
from surge.net.streams import StreamReader
from surge.server.forms import FileField
from surge.server.request_body import RequestBody
from surge.server.request_conditional import ConditionalHeaders
from surge.server.request_origin import RequestOrigin
from surge.util.reify import reify

if TYPE_CHECKING:
    from surge.server.app import Application
    from surge.server.routing.match import UrlMappingMatchInfo

__all__ = ["BaseRequest", "FileField", "Request"]


class BaseRequest(RequestBody, ConditionalHeaders, RequestOrigin, MutableMapping[str, Any]):
    """An HTTP request on the server side, independent of any application.

    Its jobs beyond the head and headers live in mixins: reading the body
    (:mod:`.request_body`), conditional and range headers (:mod:`.request_conditional`),
    the peer, scheme, host and URL (:mod:`.request_origin`).
    """

    # The on_response_prepare signals of the matched apps (set with the match info).
    _prepare_hooks: tuple[Any, ...] = ()
    # Defaults most requests never change, kept on the class: a request costs only the
    # attribute stores it needs.
    _task: asyncio.Task[Any] | None = None
    _body: bytes | None = None
    _post: MultiDictProxy[Any] | None = None
    _disconnected = False
    # Told when the client is gone: the connection lost, or its sending side closed while
    # this request is handled (an event stream listens; for most requests no one does).
    _on_client_gone: Callable[[], None] | None = None
    # Whether a Response body may be compressed without the handler asking (the app's
    # ``compress``); a class attribute, so a request costs nothing for it.
    _auto_compress = False
    # How many fields post() accepts (Application(client_max_fields=...) sets it per request
    # only when it is not the default).
    _client_max_fields = 1000

    def __init__(
        self,
        head: RequestHead,
        payload: StreamReader,
        protocol: Any,
        writer: Any = None,
        task: asyncio.Task[Any] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        client_max_size: int = 1024**2,
        client_max_fields: int = 1000,
        state: dict[str, Any] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
    ) -> None:
        self._head = head
        self._payload = payload
        self._protocol = protocol
        self._writer = writer if writer is not None else protocol
        if task is not None:
            self._task = task
        self._loop = loop
        self._client_max_size = client_max_size
        if client_max_fields != 1000:
            self._client_max_fields = client_max_fields
        self._state = state if state is not None else {}
        if scheme is not None:
            self.scheme = scheme
        if host is not None:
            self.host = host
        if remote is not None:
            self.remote = remote

    def clone(
        self,
        *,
        method: str | None = None,
        rel_url: str | URL | None = None,
        headers: Mapping[str, str] | None = None,
        scheme: str | None = None,
        host: str | None = None,
        remote: str | None = None,
        client_max_size: int | None = None,
        client_max_fields: int | None = None,
    ) -> BaseRequest:
        """A copy of this request with some properties replaced; the body is shared."""
        old = self._head
        raw_headers = old.headers
        if headers is not None:
            raw_headers = [
                (k.encode("utf-8"), v.encode("utf-8")) for k, v in CIMultiDict(headers).items()
            ]
        target = old.target
        if rel_url is not None:
            target = str(URL(rel_url) if isinstance(rel_url, str) else rel_url)
        head = RequestHead(
            method or old.method,
            target,
            old.version,
            raw_headers,
            old.keep_alive,
            old.upgrade,
            old.chunked,
            old.content_length,
        )
        new = self._clone_with(head)
        new._client_max_size = client_max_size or self._client_max_size
        fields = client_max_fields or self._client_max_fields
        if fields != new._client_max_fields:
            new._client_max_fields = fields
        new._body = self._body
        if "_auto_compress" in self.__dict__:
            new._auto_compress = self._auto_compress
        for name, value in (("scheme", scheme), ("host", host), ("remote", remote)):
            if value is not None:
                new.__dict__[name] = value
            elif name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        return new

    def _clone_with(self, head: RequestHead) -> BaseRequest:
        return type(self)(
            head,
            self._payload,
            self._protocol,
            self._writer,
            self._task,
            self._loop,
            client_max_size=self._client_max_size,
            state=self._state.copy(),
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method} {self.path} >"

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return True

    # MutableMapping: per-request user state --------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    # connection ------------------------------------------------------------------------------

    @property
    def protocol(self) -> Any:
        return self._protocol

    @property
    def writer(self) -> Any:
        return self._writer

    @property
    def transport(self) -> asyncio.Transport | None:
        return getattr(self._protocol, "transport", None)

    @property
    def task(self) -> asyncio.Task[Any] | None:
        return self._task

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop or asyncio.get_event_loop()

    @property
    def client_max_size(self) -> int:
        return self._client_max_size

    @property
    def client_max_fields(self) -> int:
        """How many form fields :meth:`post` accepts (413 past it; 0: no limit)."""
        return self._client_max_fields

    @property
    def keep_alive(self) -> bool:
        return bool(self._head.keep_alive)

    # request line ----------------------------------------------------------------------------

    @property
    def method(self) -> str:
        return self._head.method

    @property
    def version(self) -> tuple[int, int]:
        return self._head.version

    @reify
    def rel_url(self) -> URL:
        """The target as a relative URL: path, query and fragment."""
        target = self._head.target
        if target.startswith("/"):
            return (
                URL(target, encoded=True)
                if "%" in target or "?" in target
                else URL.build(path=target, encoded=True)
            )
        if target == "*":
            return URL.build(path="*", encoded=True)
        url = URL(target, encoded=True)  # absolute-form: keep only the path and query
        return url.relative() if url.is_absolute() else url

    @reify
    def path(self) -> str:
        """The decoded path (``%20`` becomes a space)."""
        target = self._head.target
        if "%" not in target and target.startswith("/"):
            return target.partition("?")[0]
        return self.rel_url.path

    @reify
    def raw_path(self) -> str:
        """The path as sent, with percent-escapes and the query string."""
        target = self._head.target
        if target.startswith("/"):
            return target
        return self.rel_url.raw_path_qs

    @reify
    def path_qs(self) -> str:
        """The decoded path with the query string (``/a b?x=1``)."""
        return str(self.rel_url)

    @reify
    def query_string(self) -> str:
        return self.rel_url.query_string

    @reify
    def query(self) -> MultiDictProxy[str]:
        """The query parameters (``request.query.getall('tag')`` for repeated ones)."""
        return self.rel_url.query

    # headers ---------------------------------------------------------------------------------

    @reify
    def headers(self) -> CIMultiDictProxy[str]:
        """The request headers, case-insensitive; repeated names keep every value."""
        head = self._head
        headers: CIMultiDict[str] = CIMultiDict()
        raw = head._raw
        if head._fields is not None:
            headers.extend(
                (n.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for n, v in head._fields
            )
        elif len(raw) > 2:
            # The raw field block of an HTTP/1.1 head, "\r\nName: value\r\n...\r\n": one
            # decode for every field (names are ASCII tokens, so they decode the same).
            add = headers.add
            for line in raw[2:-2].decode("utf-8", "surrogateescape").split("\r\n"):
                name, _, value = line.partition(":")
                add(name, value.strip(" \t"))
        return CIMultiDictProxy(headers)

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple(self._head.headers)

    @reify
    def cookies(self) -> Mapping[str, str]:
        """The cookies the client sent, name to value (a malformed pair is skipped, not fatal)."""
        from surge.http.cookies import parse_cookie_header

        return MappingProxyType(parse_cookie_header(self.headers.getall("Cookie", [])))

    @reify
    def _content_type_parsed(self) -> tuple[str, dict[str, str]]:
        from surge.http.headers import parse_mimetype_params

        raw = self.headers.get("Content-Type")
        if raw is None:
            return "application/octet-stream", {}
        return parse_mimetype_params(raw)

    @property
    def content_type(self) -> str:
        return self._content_type_parsed[0]

    @property
    def charset(self) -> str | None:
        return self._content_type_parsed[1].get("charset")

    @property
    def content_length(self) -> int | None:
        return self._head.content_length

    # server hooks ----------------------------------------------------------------------------

    def _connection_lost(self) -> None:
        self._disconnected = True
        if self._on_client_gone is not None:
            self._on_client_gone()

    async def _on_response_prepare(self, response: Any) -> None:
        for signal in self._prepare_hooks:
            await signal.send(self, response)


class Request(BaseRequest):
    """A request routed through an :class:`Application`: ``match_info``, ``app``."""

    _auto_compress = True

    #: The path parameters and matched route (``request.match_info['user_id']``); None
    #: until the request is routed. A plain attribute, set by the router: handlers read it
    #: often, and an instance attribute reads several times faster than a property.
    match_info: UrlMappingMatchInfo = None  # type: ignore[assignment]

    def _clone_with(self, head: RequestHead) -> BaseRequest:
        new = super()._clone_with(head)
        assert isinstance(new, Request)
        new.match_info = self.match_info
        new._prepare_hooks = self._prepare_hooks
        return new

    @property
    def app(self) -> Application:
        """The application (or sub-application) that owns the matched route."""
        assert self.match_info is not None
        return self.match_info.current_app

    @property
    def config_dict(self) -> Mapping[Any, Any]:
        """The state of this app and the apps it is mounted in, innermost first."""
        from collections import ChainMap

        assert self.match_info is not None
        return ChainMap(*(app._state for app in reversed(self.match_info.apps)))
