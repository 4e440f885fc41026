"""Reading a request's body: the stream, ``read``/``text``/``json``, forms and multipart.

A mixin of :class:`~surge.server.request.BaseRequest`. The body is read once and cached
(``_body``, ``_post``; their ``None`` defaults live on BaseRequest with its other per-request
defaults). Every read is bounded by ``client_max_size`` (413 past it, also after decoding a
Content-Encoding), and ``100 Continue`` is sent only when the handler first reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from multidict import MultiDict, MultiDictProxy

from surge.net.multipart import MultipartReader
from surge.net.streams import StreamReader
from surge.net.trailers import NO_TRAILERS

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from surge.http.h1.parser import RequestHead
    from surge.server.request import BaseRequest

__all__ = ["RequestBody"]


class RequestBody:
    """``content``, ``read``, ``text``, ``json``, ``post``, ``multipart``, ``release``."""

    POST_METHODS: Final = frozenset({"PATCH", "POST", "PUT", "TRACE", "DELETE"})
    # The body as read (decoded when it has a Content-Encoding), set on first use.
    _decoded_stream: StreamReader | None = None

    if TYPE_CHECKING:
        _head: RequestHead
        _payload: StreamReader
        _writer: Any
        _client_max_size: int
        _client_max_fields: int
        _body: bytes | None
        _post: MultiDictProxy[Any] | None
        headers: CIMultiDictProxy[str]

        @property
        def method(self) -> str: ...
        @property
        def content_type(self) -> str: ...
        @property
        def charset(self) -> str | None: ...

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
        stream = self._decoded_stream
        if stream is not None:
            return stream
        stream = self._payload
        if self._head.has_body:
            coding = self._head.field(b"content-encoding")
            if coding is not None and coding.strip().lower() not in ("", "identity"):
                stream = self._decoding_stream(coding)
        self._decoded_stream = stream
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

            self._post = MultiDictProxy(await read_multipart_form(cast("BaseRequest", self)))
        else:
            self._post = MultiDictProxy(MultiDict())
        return self._post

    async def release(self) -> None:
        """Read and discard the rest of the body."""
        while await self._body_stream().readany():
            pass
