"""BaseRequest and Request: what handlers receive.

Construction is cheap: the head stays as raw ``(bytes, bytes)`` pairs and the headers proxy,
URL, query and cookies are built on first access. The body is read once and cached.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from surge.http.conditional import ETag, parse_etag_list
from surge.http.h1.parser import RequestHead
from surge.net.multipart import MultipartReader
from surge.net.streams import StreamReader
from surge.net.trailers import NO_TRAILERS
from surge.server.forms import FileField
from surge.util.reify import reify

if TYPE_CHECKING:
    from surge.server.app import Application
    from surge.server.routing.match import UrlMappingMatchInfo

__all__ = ["BaseRequest", "FileField", "Request"]


class BaseRequest(MutableMapping[str, Any]):
    """An HTTP request on the server side, independent of any application."""

    POST_METHODS: Final = frozenset({"PATCH", "POST", "PUT", "TRACE", "DELETE"})
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
            self.__dict__["scheme"] = scheme
        if host is not None:
            self.__dict__["host"] = host
        if remote is not None:
            self.__dict__["remote"] = remote

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

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    @reify
    def remote(self) -> str | None:
        """The peer's address (IP, or the Unix socket path)."""
        transport = self.transport
        if transport is None:
            return None
        peer = transport.get_extra_info("peername")
        if isinstance(peer, list | tuple):
            return str(peer[0])
        return str(peer) if peer is not None else None

    @reify
    def secure(self) -> bool:
        return self.scheme == "https"

    @reify
    def scheme(self) -> str:
        """``https`` when the connection is TLS, else ``http`` (never from the target)."""
        transport = self.transport
        if transport is not None and transport.get_extra_info("sslcontext") is not None:
            return "https"
        return "http"

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

    @reify
    def url(self) -> URL:
        """The absolute URL, built from the scheme and Host header."""
        return URL.build(scheme=self.scheme, authority=self.host).join(self.rel_url)

    @reify
    def host(self) -> str:
        """The Host header, else the machine's name (``socket.getfqdn()``)."""
        host = self.headers.get("Host")
        if host is not None:
            return host
        import socket

        return socket.getfqdn()

    @reify
    def forwarded(self) -> tuple[MappingProxyType[str, str], ...]:
        """The parsed ``Forwarded`` headers (RFC 7239), one mapping per element."""
        from surge.http.headers import parse_forwarded

        return tuple(
            MappingProxyType(e) for e in parse_forwarded(self.headers.getall("Forwarded", []))
        )

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

    def _http_date(self, name: str) -> datetime.datetime | None:
        value = self.headers.get(name)
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed

    @reify
    def if_modified_since(self) -> datetime.datetime | None:
        return self._http_date("If-Modified-Since")

    @reify
    def if_unmodified_since(self) -> datetime.datetime | None:
        return self._http_date("If-Unmodified-Since")

    @reify
    def if_range(self) -> datetime.datetime | None:
        return self._http_date("If-Range")

    @reify
    def if_match(self) -> tuple[ETag, ...] | None:
        return parse_etag_list(self.headers.get("If-Match"))

    @reify
    def if_none_match(self) -> tuple[ETag, ...] | None:
        return parse_etag_list(self.headers.get("If-None-Match"))

    @reify
    def http_range(self) -> slice:
        """The ``Range`` header as a slice (one range); ``slice(None, None)`` when absent."""
        from surge.http.headers import parse_range

        return parse_range(self.headers.get("Range"))

    # body ------------------------------------------------------------------------------------

    @property
    def content(self) -> StreamReader:
        """The body as a stream (``await request.content.read(n)``), decoded from its
        Content-Encoding (gzip, deflate, br, zstd)."""
        self._expect_continue()  # the handler is about to read: let the client send
        return self._body_stream()

    @property
    def payload(self) -> StreamReader:
        return self._body_stream()

    @property
    def trailers(self) -> CIMultiDictProxy[str]:
        """Trailer fields sent after the body (HTTP/2); empty until the body is read."""
        trailers: CIMultiDictProxy[str] = getattr(self._payload, "trailers", NO_TRAILERS)
        return trailers

    def _body_stream(self) -> StreamReader:
        """The raw payload, or a decoding view of it when the body has a Content-Encoding.

        The decoded size is bounded by ``client_max_size`` (413 past it), as is the encoded
        size; a coding this server cannot decode is 415.
        """
        stream = self.__dict__.get("_decoded_stream")
        if stream is not None:
            return stream  # type: ignore[no-any-return]
        stream = self._payload
        if self._head.has_body:
            coding = self._head.field(b"content-encoding")
            if coding is not None and coding.strip().lower() not in ("", "identity"):
                stream = self._decoding_stream(coding)
        self.__dict__["_decoded_stream"] = stream
        return stream

    def _decoding_stream(self, coding: str) -> StreamReader:
        from surge.http.content.codecs import (
            DEFAULT_MAX_DECOMPRESSED_SIZE,
            DecompressionError,
            DecompressionLimitError,
            make_decoder,
        )
        from surge.net.decoding import DecodingStreamReader
        from surge.server.exceptions import (
            HTTPBadRequest,
            HTTPRequestEntityTooLarge,
            HTTPUnsupportedMediaType,
        )

        limit = self._client_max_size or DEFAULT_MAX_DECOMPRESSED_SIZE
        decoder = make_decoder(coding, limit)
        if decoder is None:
            raise HTTPUnsupportedMediaType(text=f"Unsupported Content-Encoding: {coding}")

        def error(exc: DecompressionError, size: int) -> BaseException:
            if isinstance(exc, DecompressionLimitError):
                return HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
            return HTTPBadRequest(text=str(exc))

        return DecodingStreamReader(self._payload, decoder, max_encoded=limit, on_error=error)

    @property
    def has_body(self) -> bool:
        return self.can_read_body

    @property
    def can_read_body(self) -> bool:
        """True while there is body left to read."""
        return not self._payload.at_eof()

    @property
    def body_exists(self) -> bool:
        """True when the request carries a body at all."""
        return self._head.has_body

    def _expect_continue(self) -> None:
        """Send ``100 Continue`` once, when the body is first read (never for an oversize one)."""
        head = self._head
        if head.expect and head.version >= (1, 1) and not self._payload.is_eof():
            expect = self.headers.get("Expect")
            if expect is not None and expect.lower() == "100-continue":
                limit = self._client_max_size
                length = head.content_length
                if limit and length is not None and length > limit:
                    self._raise_too_large(length)
                head.expect = False  # once per request
                send = getattr(self._writer, "send_continue", None)
                if send is not None:
                    send()

    async def read(self) -> bytes:
        """The whole body (cached); larger than ``client_max_size`` raises 413."""
        if self._body is None:
            self._expect_continue()
            limit = self._client_max_size
            length = self._head.content_length
            if limit and length is not None and length > limit:
                self._raise_too_large(length)
            chunks = []
            size = 0
            payload = self._body_stream()
            while True:
                data = await payload.readany()
                if not data:
                    break
                chunks.append(data)
                size += len(data)
                if limit and size > limit:
                    self._raise_too_large(size)
            self._body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._body

    def _raise_too_large(self, size: int) -> None:
        from surge.server.exceptions import HTTPRequestEntityTooLarge

        raise HTTPRequestEntityTooLarge(max_size=self._client_max_size, actual_size=size)

    async def text(self) -> str:
        body = await self.read()
        return body.decode(self.charset or "utf-8")

    async def json(self, *, loads: Callable[[str], Any] = json.loads) -> Any:
        """The body decoded as JSON (whatever the Content-Type, as in aiohttp)."""
        return loads(await self.text())

    async def multipart(self) -> MultipartReader:
        """A streaming reader over a ``multipart/*`` body: ``async for part in reader``."""
        payload = self._body_stream()
        if self._body is not None:
            # The body was read (or replaced by a middleware): parse those bytes, not the drained stream.
            payload = StreamReader(None, max(len(self._body), 2**16))
            payload.feed_data(self._body)
            payload.feed_eof()
        else:
            self._expect_continue()
        return MultipartReader(
            self.headers,
            payload,
            client_max_size=self._client_max_size or sys.maxsize,
            max_size_error_cls=self._part_too_large,
        )

    def _part_too_large(self, limit: int) -> Exception:
        """413 for a multipart part read whole past ``client_max_size``."""
        from surge.server.exceptions import HTTPRequestEntityTooLarge

        return HTTPRequestEntityTooLarge(
            max_size=limit,
            actual_size=limit + 1,
            text=f"Maximum request body size {limit} exceeded.",
        )

    async def post(self) -> MultiDictProxy[Any]:
        """Form fields of an urlencoded or multipart body (files as :class:`FileField`)."""
        if self._post is not None:
            return self._post
        if self.method not in self.POST_METHODS:
            self._post = MultiDictProxy(MultiDict())
            return self._post
        ctype = self.content_type
        if ctype == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qsl

            body = await self.read()
            charset = self.charset or "utf-8"
            pairs = parse_qsl(body.decode(charset), keep_blank_values=True)
            if self._client_max_fields and len(pairs) > self._client_max_fields:
                from surge.server.forms import too_many_fields

                raise too_many_fields(self._client_max_fields)
            self._post = MultiDictProxy(MultiDict(pairs))
        elif ctype.startswith("multipart/"):
            from surge.server.forms import read_multipart_form

            self._post = MultiDictProxy(await read_multipart_form(self))
        else:
            self._post = MultiDictProxy(MultiDict())
        return self._post

    async def release(self) -> None:
        """Read and discard the rest of the body."""
        while await self._body_stream().readany():
            pass

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
