"""One hop: a finished :class:`ClientRequest` onto a connection, and its response head back.

This is the innermost handler of the middleware chain. A request on a pooled connection that
the server had already closed is sent again, once, on a fresh connection when that is safe
(idempotent method, replayable body, nothing received yet), so a keep-alive race never
surfaces as :class:`ServerDisconnectedError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import Any

from multidict import CIMultiDict, istr

from surge.client.connection.h1 import H1Connection, ResponseSettings, ResponseStart
from surge.client.connector import BaseConnector, Connection
from surge.client.cookiejar import AbstractCookieJar, CookieJar, DummyCookieJar
from surge.client.exceptions import (
    ClientResponseError,
    ConnectionTimeoutError,
    ServerDisconnectedError,
    ServerTimeoutError,
)
from surge.client.payload import EMPTY, Payload
from surge.client.request import NO_LENGTH_METHODS, ClientRequest
from surge.client.response import CharsetResolver, ClientResponse
from surge.client.timeouts import ClientTimeout
from surge.client.tracing import Trace
from surge.http.errors import HttpProtocolError

__all__ = ["Progress", "SendOptions", "send_request"]

Progress = Callable[[int, int | None], Any]


class SendOptions(ResponseSettings):
    """The settings of one ``session.request()`` call, shared by all of its hops (and, for
    calls without per-call options, by all such calls of a session)."""

    __slots__ = (
        "cookies",
        "resolve_charset",
        "response_class",
        "skip",
        "timeout",
        "traces",
        "upload_progress",
    )

    def __init__(
        self,
        *,
        skip: frozenset[istr],
        cookies: Any,
        read_bufsize: int,
        auto_decompress: bool,
        max_line: int,
        max_field: int,
        max_headers: int,
        read_until_eof: bool,
        max_decompressed: int,
        timeout: ClientTimeout,
        traces: Sequence[Trace],
        upload_progress: Progress | None,
        download_progress: Progress | None,
        response_class: type[ClientResponse] = ClientResponse,
        resolve_charset: CharsetResolver | None = None,
    ) -> None:
        super().__init__(
            max_line=max_line,
            max_field=max_field,
            max_headers=max_headers,
            read_bufsize=read_bufsize,
            auto_decompress=auto_decompress,
            max_decompressed=max_decompressed,
            read_until_eof=read_until_eof,
            sock_read=timeout.sock_read,
            download_progress=download_progress,
        )
        self.skip = skip
        self.cookies = cookies
        self.timeout = timeout
        self.traces = traces
        self.upload_progress = upload_progress
        self.response_class = response_class  # the session's response_class
        self.resolve_charset = resolve_charset  # the session's fallback_charset_resolver


def cookie_header(jar: AbstractCookieJar, url: Any, extra: Any) -> str | None:
    """The ``Cookie`` header for ``url``: the jar's cookies, then the request's own."""
    if not extra and type(jar) is CookieJar and jar.empty:
        return None
    cookies = jar.filter_cookies(url)
    if extra:
        tmp = CookieJar(quote_cookie=jar.quote_cookie)
        tmp.update_cookies(extra)
        for name, morsel in tmp.filter_cookies(url).items():
            dict.__setitem__(cookies, name, morsel)
    if not cookies:
        return None
    if jar.quote_cookie:
        return "; ".join(f"{m.key}={m.coded_value}" for m in cookies.values())
    return "; ".join(f"{m.key}={m.value}" for m in cookies.values())


def _is_plain(req: ClientRequest, opts: SendOptions) -> bool:
    """Whether ``req`` (with a plain target) may go out with exactly the cached head: no
    body, auth, cookies, proxy or per-call TLS settings, nothing observing the upload (the
    jar's cookies are checked apart)."""
    return (
        req.payload is EMPTY
        and req.auth is None
        and req.proxy is None
        and req.ssl is True
        and req.server_hostname is None
        and not req.compress
        and not req.chunked
        and req.method in NO_LENGTH_METHODS
        and opts.cookies is None
        and not opts.traces
        and opts.upload_progress is None
    )


def _finish_headers(req: ClientRequest, jar: AbstractCookieJar, opts: SendOptions) -> None:
    # A plain target's cached block has Host; the headers are only built when something
    # is to be added to them.
    if not req.has_host() and "Host" not in opts.skip:
        # Host goes first, as RFC 9112 recommends.
        fresh: CIMultiDict[str] = CIMultiDict(Host=req.host_header())
        fresh.extend(req.headers)
        req.headers = fresh
    if req.auth is not None and "Authorization" not in req.headers:
        req.headers["Authorization"] = req.auth.encode()
    cookie = cookie_header(jar, req.url, opts.cookies)
    if cookie is not None:
        req.headers["Cookie"] = cookie
    if req.proxy is not None and not req.is_ssl:
        headers = req.headers
        if req.proxy_auth is not None and "Proxy-Authorization" not in headers:
            headers["Proxy-Authorization"] = req.proxy_auth.encode()
        if req.proxy_headers:
            headers.extend(req.proxy_headers)


async def send_request(
    connector: BaseConnector, jar: AbstractCookieJar, req: ClientRequest, checked: bool = False
) -> ClientResponse:
    """Send ``req`` (one hop) and return its response, the body still on the wire.

    ``checked``: the caller knows that ``req`` passes :func:`_is_plain`."""
    opts: SendOptions = req.options
    plain = req.plain_target
    key = None
    if (
        plain is not None
        and (checked or _is_plain(req, opts))
        and (type(jar) is DummyCookieJar or (type(jar) is CookieJar and jar.empty))
    ):
        # Nothing to add to the session's headers: the cached head goes as it is.
        head: bytes = plain.head(req.method)
        body: bytes | None = None
        stream: AsyncIterator[bytes] | None = None
        if plain.key is None:
            plain.key = connector.pool_key(req)
        key = plain.key
        simple = True
    else:
        _finish_headers(req, jar, opts)
        payload = req.payload
        if payload.stream is not None and (opts.traces or opts.upload_progress is not None):
            req.payload = Payload(
                stream=_observed(payload.stream, req, opts, payload.size),
                size=payload.size,
                content_type=payload.content_type,
            )
        head, body, stream = req.serialize_head()
        # Nothing between the head and the response but the wait: no exchange coroutine.
        simple = (
            stream is None
            and not opts.traces
            and opts.upload_progress is None
            and not req.expect100
        )
    traces = opts.traces
    attempt = 0
    upload: _Upload | None = None
    while True:
        conn = None if attempt or traces else connector.connect_pooled(req, key)
        if conn is None:
            conn = await _connect(connector, req, opts, attempt > 0)
        proto = conn.protocol
        assert proto is not None
        reused = proto.reused > 0
        try:
            if simple:
                rhead, content = await proto.start(
                    head + body if body is not None else head,
                    req.method == "HEAD",
                    opts,
                    req.deadline,
                )
            else:
                upload = _Upload()
                rhead, content = await _exchange(proto, req, head, body, stream, opts, upload)
        except ServerDisconnectedError:
            conn.close()
            retry_ok = req.idempotent and req.payload.replayable
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
    resp = opts.response_class(
        req.method,
        req.original_url,
        status=rhead.status,
        reason=rhead.reason,
        version=rhead.version,
        raw_headers=rhead.headers,
        content=content,
        request_info=req.make_request_info,
        connection=conn if conn.protocol is not None else None,
    )
    if upload is None:
        resp._output_size = len(head) + len(body) if body is not None else len(head)
    else:
        resp._output_size = upload.sent
        resp._upload_done = upload.complete
    if opts.resolve_charset is not None:
        resp._resolve_charset = opts.resolve_charset
    if traces:
        resp._traces = traces
    if rhead.set_cookie:
        # Raw values, so cookies of one name but different paths or domains all arrive.
        from_headers = getattr(jar, "update_cookies_from_headers", None)
        if from_headers is not None:
            from_headers(resp.headers.getall("Set-Cookie", ()), resp.url)
        else:  # a duck-typed jar of aiohttp < 3.12's interface
            jar.update_cookies(resp.cookies, resp.url)
    return resp


async def _connect(
    connector: BaseConnector, req: ClientRequest, opts: SendOptions, fresh: bool
) -> Connection:
    tm = opts.timeout
    loop = asyncio.get_running_loop()
    when = loop.time() + tm.connect if tm.connect is not None else None
    if req.deadline is not None and (when is None or req.deadline < when):
        when = req.deadline
    try:
        async with asyncio.timeout_at(when):
            return await connector.connect(req, opts.traces, tm, fresh=fresh)
    except TimeoutError as exc:
        if isinstance(exc, (ConnectionTimeoutError, ServerTimeoutError)):
            raise
        raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc


async def _observed(
    stream: AsyncIterable[bytes], req: ClientRequest, opts: SendOptions, total: int | None
) -> AsyncIterator[bytes]:
    """``stream`` reporting each chunk once it has been written (before any framing)."""
    sent = 0
    progress = opts.upload_progress
    async for chunk in stream:
        yield chunk
        sent += len(chunk)
        for trace in opts.traces:
            await trace.send_request_chunk_sent(req.method, req.url, chunk)
        if progress is not None:
            progress(sent, total)


class _Upload:
    """What one exchange sent: bytes on the wire (head and framed body), and whether the
    body went out whole."""

    __slots__ = ("complete", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.complete = False


async def _exchange(
    proto: H1Connection,
    req: ClientRequest,
    head: bytes,
    body: bytes | None,
    stream: AsyncIterator[bytes] | None,
    opts: SendOptions,
    upload: _Upload,
) -> ResponseStart:
    expect = req.expect100 and (body is not None or stream is not None)
    first = head + body if body is not None and not expect else head
    waiter = proto.start(first, req.method == "HEAD", opts, req.deadline, expect)
    upload.sent = len(first)
    traces = opts.traces
    progress = opts.upload_progress
    try:
        if traces:
            for trace in traces:
                await trace.send_request_headers(req.method, req.url, req.headers)
        if expect:
            await proto.wait_continue()
            if waiter.done():
                return waiter.result()  # a final answer instead of 100: no body is sent
            if body is not None:
                proto.write(body)
                upload.sent += len(body)
        if body is not None:
            if traces:
                for trace in traces:
                    await trace.send_request_chunk_sent(req.method, req.url, body)
            if progress is not None:
                progress(len(body), len(body))
        if stream is not None:
            async for chunk in stream:
                if waiter.done():
                    return await waiter  # the server answered early; it will not read the rest
                proto.write(chunk)
                upload.sent += len(chunk)
                await proto.drain()
        upload.complete = True
    except ServerDisconnectedError:
        if waiter.done():
            return waiter.result()  # the answer, or why it failed (e.g. the deadline)
        raise
    return await waiter
