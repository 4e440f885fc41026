"""``ClientResponse``: status, headers and a streamed body; the connection returns to the pool
by itself once the body has been read off the wire."""

from __future__ import annotations

import asyncio
import codecs
import json as jsonlib
import re
import warnings
from collections.abc import Callable, Sequence
from http.cookies import CookieError, SimpleCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from surge.client.exceptions import (
    ClientConnectionError,
    ClientResponseError,
    ContentTypeError,
)
from surge.client.request import RequestInfo
from surge.http.headers import parse_mimetype_params
from surge.http.version import HttpVersion, HttpVersion10, HttpVersion11
from surge.net.streams import StreamReader
from surge.net.trailers import NO_TRAILERS

if TYPE_CHECKING:
    from surge.client.connector import Connection
    from surge.client.tracing import Trace

__all__ = ["CharsetResolver", "ClientResponse", "ContentDisposition", "HttpVersion"]

CharsetResolver = Callable[["ClientResponse", bytes], str]
"""``fallback_charset_resolver(response, body) -> encoding``: for a body of unknown charset."""


_VERSIONS = {(1, 1): HttpVersion11, (1, 0): HttpVersion10}


class ContentDisposition(NamedTuple):
    type: str | None
    parameters: MultiDictProxy[str]
    filename: str | None


_JSON_RE = re.compile(r"^(?:application/|[\w.-]+/[\w.+-]+?\+)json$")
_LINK_RE = re.compile(r"\s*<(.*)>(.*)")
_PARAM_RE = re.compile(r'\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*))')


class ClientResponse:
    """The answer to a request (``async with session.get(url) as response:``)."""

    method: str
    status: int
    reason: str
    version: HttpVersion
    content: StreamReader
    _connection: Connection | None = None  # so __del__ works on a half-built response
    _traces: Sequence[Trace] = ()
    # The session's fallback_charset_resolver; None is aiohttp's default (UTF-8).
    _resolve_charset: CharsetResolver | None = None
    # Set by the session once the request went out: its bytes (head and body as framed), and
    # whether the whole body was sent (not when the server answered before reading it).
    _output_size: int = 0
    _upload_done: bool = True
    _upload_future: asyncio.Future[None] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        status: int,
        reason: str,
        version: tuple[int, int],
        raw_headers: list[tuple[bytes, bytes]],
        content: StreamReader,
        request_info: RequestInfo | Callable[[], RequestInfo],
        connection: Connection | None,
        loop: Any = None,
    ) -> None:
        self.method = method
        self._url = url.with_fragment(None) if url.raw_fragment else url
        self._real_url = url
        self.status = status
        self.reason = reason
        self.version = _VERSIONS.get(version) or HttpVersion(*version)
        self._raw = raw_headers
        self._headers: CIMultiDictProxy[str] | None = None
        self.content = content
        # A callable builds the RequestInfo on first use (most responses never need it).
        self._request_info = request_info
        self._connection = connection
        self._body: bytes | None = None
        self._history: tuple[ClientResponse, ...] = ()
        self._cookies: SimpleCookie | None = None
        self._released = False
        self._closed = connection is None
        self._loop = loop

    def __repr__(self) -> str:
        return f"<ClientResponse({self._url}) [{self.status} {self.reason}]>"

    def __del__(self) -> None:
        if self._connection is not None and not self._closed:
            self._connection.close()

    # head ----------------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        return self._url

    @property
    def output_size(self) -> int:
        """Bytes sent for this request: head and body (deprecated in aiohttp 3.14.4: use
        :class:`UploadTracker`)."""
        warnings.warn(
            "ClientResponse.output_size is deprecated, use surge.UploadTracker instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._output_size

    @property
    def upload_complete(self) -> asyncio.Future[None]:
        """A future done once the request body has been fully sent (deprecated in aiohttp
        3.14.4: use :class:`UploadTracker`).

        surge sends the body before it returns the response, so the future is already done;
        when the server answered before taking the whole body it holds
        :exc:`ClientConnectionError`.
        """
        warnings.warn(
            "ClientResponse.upload_complete is deprecated, use surge.UploadTracker instead",
            DeprecationWarning,
            stacklevel=2,
        )
        future = self._upload_future
        if future is None:
            future = self._upload_future = asyncio.get_running_loop().create_future()
            if self._upload_done:
                future.set_result(None)
            else:
                future.set_exception(
                    ClientConnectionError("The server answered before the request body was sent")
                )
                future.exception()  # retrieved: no "never retrieved" log if nobody awaits it
        return future

    @property
    def url_obj(self) -> URL:
        """Deprecated in aiohttp: the same as :attr:`url`."""
        warnings.warn("Deprecated, use .url #1654", DeprecationWarning, stacklevel=2)
        return self._url

    @property
    def connection(self) -> Connection | None:
        """The pooled connection while the body is being read (None once released)."""
        return None if self._closed else self._connection

    @property
    def real_url(self) -> URL:
        return self._real_url

    @property
    def host(self) -> str:
        return self._url.host or ""

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        if self._headers is None:
            self._headers = CIMultiDictProxy(
                CIMultiDict(
                    (k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape"))
                    for k, v in self._raw
                )
            )
        return self._headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return tuple(self._raw)

    @property
    def trailers(self) -> CIMultiDictProxy[str]:
        """Trailer fields sent after the body (HTTP/2); empty until the body is read."""
        trailers: CIMultiDictProxy[str] = getattr(self.content, "trailers", NO_TRAILERS)
        return trailers

    @property
    def request_info(self) -> RequestInfo:
        info = self._request_info
        if not isinstance(info, RequestInfo):
            info = self._request_info = info()
        return info

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        return self._history

    @property
    def content_type(self) -> str:
        raw = self.headers.get("Content-Type")
        if raw is None:
            return "application/octet-stream"
        return parse_mimetype_params(raw)[0]

    @property
    def charset(self) -> str | None:
        raw = self.headers.get("Content-Type")
        if raw is None:
            return None
        return parse_mimetype_params(raw)[1].get("charset")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def cookies(self) -> SimpleCookie:
        if self._cookies is None:
            jar = SimpleCookie()
            for value in self.headers.getall("Set-Cookie", ()):
                try:
                    jar.load(value)
                except CookieError:
                    continue
            self._cookies = jar
        return self._cookies

    @property
    def content_disposition(self) -> ContentDisposition | None:
        raw = self.headers.get("Content-Disposition")
        if raw is None:
            return None
        kind, _, rest = raw.partition(";")
        params: MultiDict[str] = MultiDict()
        extended: set[str] = set()
        for m in _PARAM_RE.finditer(rest):
            key = m.group(1).lower()
            value = m.group(2) if m.group(2) is not None else m.group(3)
            value = re.sub(r"\\(.)", r"\1", value)
            if key.endswith("*") and "''" in value:
                # RFC 6266: the extended (RFC 8187) form wins over the plain one.
                charset, _, encoded = value.partition("''")
                key = key[:-1]
                params[key] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
                extended.add(key)
            elif key not in extended:
                params.add(key, value)
        proxy = MultiDictProxy(params)
        return ContentDisposition(kind.strip().lower() or None, proxy, proxy.get("filename"))

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
        for header in self.headers.getall("Link", ()):
            for val in re.split(r",(?=\s*<)", header):
                match = _LINK_RE.match(val)
                if match is None:
                    continue
                target, params_str = match.groups()
                link: MultiDict[str | URL] = MultiDict()
                for m in _PARAM_RE.finditer(params_str):
                    link.add(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
                key = link.get("rel", target)
                link.add("url", self._url.join(URL(target)))
                links.add(str(key), MultiDictProxy(link))
        return MultiDictProxy(links)

    # body ----------------------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._body is None:
            try:
                self._body = await self.content.read()
            except BaseException:
                self.close()
                raise
            self._release_connection()
            for trace in self._traces:
                await trace.send_response_chunk_received(self.method, self._url, self._body)
        return self._body

    def get_encoding(self) -> str:
        """The charset of Content-Type when Python knows it; else UTF-8 for JSON (RFC 8259),
        else what the session's ``fallback_charset_resolver(response, body)`` says (UTF-8 by
        default). A custom resolver needs the body: RuntimeError before it was read."""
        charset = self.charset
        if charset:
            try:
                codecs.lookup(charset)
            except LookupError:
                pass
            else:
                return charset
        resolve = self._resolve_charset
        if resolve is None:
            return "utf-8"
        mtype = self.content_type
        if mtype == "application/json" or _JSON_RE.match(mtype):
            return "utf-8"
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return resolve(self, self._body)

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded with ``encoding``, the charset of Content-Type, or UTF-8."""
        body = await self.read()
        return body.decode(encoding or self.get_encoding(), errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = jsonlib.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        """The body parsed as JSON; :class:`ContentTypeError` when it is not declared JSON."""
        body = await self.read()
        if content_type:
            mtype = self.content_type
            if mtype != content_type and not _JSON_RE.match(mtype):
                raise ContentTypeError(
                    self.request_info,
                    self._history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {mtype}",
                    headers=self.headers,
                )
        if not body.strip():
            return None
        return loads(body.decode(encoding or self.get_encoding()))

    # life cycle ----------------------------------------------------------------------------

    def _release_connection(self) -> None:
        self._released = True
        self._closed = True
        conn = self._connection
        if conn is not None:
            self._connection = None
            conn.release()

    def release(self) -> Any:
        """Give the connection back (closing it when the body was not read to the end)."""
        if not self._released:
            self._released = True
            self._closed = True
            conn = self._connection
            self._connection = None
            if conn is not None:
                if self.content.is_eof() and self.content.exception() is None:
                    conn.release()
                else:
                    conn.close()
        return _noop()

    def close(self) -> None:
        """Close the connection under this response at once."""
        self._released = True
        self._closed = True
        conn = self._connection
        self._connection = None
        if conn is not None:
            conn.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def raise_for_status(self) -> None:
        """Raise :class:`ClientResponseError` for a 4xx/5xx status."""
        if self.status >= 400:
            self.release()
            raise ClientResponseError(
                self.request_info,
                self._history,
                status=self.status,
                message=self.reason,
                headers=self.headers,
            )

    async def wait_for_close(self) -> None:
        await self.read()

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class _noop:
    """What ``release()`` returns: awaitable for aiohttp code that awaits it."""

    def __await__(self) -> Any:
        return iter(())
