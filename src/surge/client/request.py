"""Building a request: URL, query, headers and body checked and ready to serialise.

Invariants: a method that is not a token, a URL or header holding CR, LF or NUL, or a URL that
is not absolute http(s) is refused here, before any byte is sent (no request splitting).
"""

from __future__ import annotations

import json as jsonlib
import platform
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from surge import __version__ as _surge_version
from surge.client.auth import BasicAuth
from surge.client.exceptions import InvalidUrlClientError, NonHttpUrlClientError
from surge.client.payload import EMPTY, Payload, make_payload
from surge.http import zlib_backend
from surge.http.content.codecs import accept_encoding
from surge.http.h1.writer import serialize_request_head

__all__ = [
    "DEFAULT_USER_AGENT",
    "ClientRequest",
    "RequestInfo",
    "apply_params",
    "build_url",
    "check_headers",
]

DEFAULT_USER_AGENT = f"Python/{platform.python_version_tuple()[0]}.{platform.python_version_tuple()[1]} surge/{_surge_version}"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN = re.compile(r"[\r\n\x00]")
_HTTP_SCHEMES = frozenset({"http", "https"})
_SECURE_SCHEMES = frozenset({"https", "wss"})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_KNOWN_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST", "PATCH"})
# Methods whose requests carry no Content-Length when they have no body.
NO_LENGTH_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})


class RequestInfo(NamedTuple):
    """What was asked: kept on responses and errors (aiohttp's ``RequestInfo``)."""

    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


def build_url(url: str | URL, base_url: URL | None = None) -> URL:
    """An absolute http(s) URL, or :class:`InvalidUrlClientError`/:class:`NonHttpUrlClientError`."""
    if isinstance(url, str):
        if _FORBIDDEN.search(url):
            raise InvalidUrlClientError(url, "URL must not contain CR, LF or NUL")
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            raise InvalidUrlClientError(url, str(exc)) from None
    elif isinstance(url, URL):
        parsed = url
    else:
        raise InvalidUrlClientError(url, "URL must be a str or a yarl.URL")
    if base_url is not None and not parsed.is_absolute():
        parsed = base_url.join(parsed) if str(parsed) else base_url
    if parsed.scheme and parsed.scheme not in _HTTP_SCHEMES and parsed.scheme not in ("ws", "wss"):
        raise NonHttpUrlClientError(parsed)
    if not parsed.is_absolute() or not parsed.host:
        raise InvalidUrlClientError(parsed, "URL must be absolute (scheme and host)")
    return parsed


def apply_params(url: URL, params: Any) -> URL:
    """Add ``params`` (mapping, pairs, MultiDict, or a pre-encoded string) to the query."""
    if params is None:
        return url
    if isinstance(params, str):
        if _FORBIDDEN.search(params):
            raise InvalidUrlClientError(params, "Query must not contain CR, LF or NUL")
        raw = url.raw_query_string
        query = f"{raw}&{params}" if raw else params
        return URL(str(url.with_query(None)) + "?" + query, encoded=True)
    if isinstance(params, (Mapping, MultiDict, MultiDictProxy)):
        items: Iterable[tuple[str, Any]] = params.items()
    else:
        items = params
    pairs: list[tuple[str, str | int | float]] = []
    for key, value in items:
        values = value if isinstance(value, (list, tuple)) else (value,)
        for v in values:
            if isinstance(v, bool):
                raise TypeError(
                    f"Invalid variable type: value should be str, int or float, got {v!r} of type {type(v)}"
                )
            pairs.append((str(key), v))
    return url.extend_query(pairs)


def host_header(url: URL) -> str:
    """The ``Host`` header value for ``url``."""
    host = url.raw_host or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if url.explicit_port is not None and not url.is_default_port():
        host = f"{host}:{url.port}"
    return host


def check_headers(headers: Iterable[tuple[str, str]]) -> None:
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"Invalid header name {name!r}")
        if _FORBIDDEN.search(value):
            raise ValueError(f"Header {name!r} contains a forbidden character (CR, LF or NUL)")


class Target:
    """A URL as the session sends it, worked out once per URL string: the URL, its ``Host``
    and, when the session's automatic headers apply unchanged, the serialised header block
    and the whole head per method (the common request costs no header building at all)."""

    __slots__ = ("block", "headers", "heads", "host", "key", "path", "url")

    def __init__(self, url: URL, base: CIMultiDict[str] | None) -> None:
        self.url = url
        self.host = host_header(url)
        self.key: Any = None  # the connection key, filled in by the first plain send
        path = url.raw_path_qs or "/"
        self.headers: CIMultiDict[str] | None = None
        self.block = b""
        self.path = path
        self.heads: dict[str, bytes] = {}
        plain = (
            base is not None
            and not url.raw_fragment
            and url.raw_user is None
            and url.raw_password is None
            and " " not in path
            and not _FORBIDDEN.search(path)
            and not _FORBIDDEN.search(self.host)
        )
        if plain:
            assert base is not None
            headers: CIMultiDict[str] = CIMultiDict(Host=self.host)
            headers.extend(base)
            self.headers = headers
            self.block = "".join(f"{n}: {v}\r\n" for n, v in headers.items()).encode("utf-8")

    def head(self, method: str) -> bytes:
        """The request head for ``method`` (a method that sends no Content-Length)."""
        head = self.heads.get(method)
        if head is None:
            head = self.heads[method] = (
                f"{method} {self.path} HTTP/1.1\r\n".encode() + self.block + b"\r\n"
            )
        return head


async def _compressed(stream: AsyncIterator[bytes] | Any, wbits: int) -> AsyncIterator[bytes]:
    comp = zlib_backend.backend.compressobj(wbits=wbits)
    async for chunk in stream:
        out = comp.compress(chunk)
        if out:
            yield out
    yield comp.flush()


class ClientRequest:
    """One request as it goes on the wire; redirects and retries make new ones."""

    __slots__ = (
        "_headers",
        "_target",
        "_url",
        "auth",
        "chunked",
        "compress",
        "deadline",
        "expect100",
        "method",
        "options",
        "original_url",
        "payload",
        "proxy",
        "proxy_auth",
        "proxy_headers",
        "server_hostname",
        "session",
        "ssl",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        headers: CIMultiDict[str] | None = None,
        payload: Payload = EMPTY,
        auth: BasicAuth | None = None,
        ssl: Any = True,
        server_hostname: str | None = None,
        compress: str | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        target: Target | None = None,
    ) -> None:
        if method not in _KNOWN_METHODS:
            if not _TOKEN.fullmatch(method):
                raise ValueError(f"Method {method!r} is not a valid HTTP token")
            method = method.upper()
        self.method = method
        self.original_url = url
        # With a plain target the headers stay the session's cached block until someone
        # asks for them (see the ``headers`` property).
        self._target = target if target is not None and target.headers is not None else None
        if self._target is None:
            self._url = url.with_fragment(None) if url.raw_fragment else url
            if url.raw_user is not None or url.raw_password is not None:
                if auth is None:
                    auth = BasicAuth.from_url(url)
                self._url = self._url.with_user(None)
            if headers is None:
                headers = CIMultiDict()
        else:
            self._url = url
        self._headers = headers
        self.payload = payload
        self.auth = auth
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.compress = compress
        self.chunked = chunked
        self.expect100 = expect100
        self.proxy: URL | None = None
        self.proxy_auth: BasicAuth | None = None
        self.proxy_headers: CIMultiDict[str] | None = None
        self.session: Any = None  # the ClientSession sending it (middlewares use it)
        self.options: Any = None  # the per-call settings (surge.client.exchange.SendOptions)
        self.deadline: float | None = None  # loop time by which the whole call must end

    @property
    def url(self) -> URL:
        return self._url

    @url.setter
    def url(self, value: URL) -> None:
        self.headers  # noqa: B018 -- the headers as they were (Host included) become a dict
        self._url = value

    @property
    def headers(self) -> CIMultiDict[str]:
        """The request's headers (a middleware may change them before the hop is sent)."""
        headers = self._headers
        if headers is None:
            target = self._target
            assert target is not None and target.headers is not None
            headers = self._headers = CIMultiDict(target.headers)
        # Whoever holds the dict may change it: the head is serialised from it from now on.
        self._target = None
        return headers

    @headers.setter
    def headers(self, value: CIMultiDict[str]) -> None:
        self._headers = value
        self._target = None

    @property
    def plain_target(self) -> Target | None:
        """The cached target while the headers are still exactly the session's block."""
        return self._target

    def carry_from(self, other: ClientRequest) -> None:
        """Take ``other``'s session, settings and proxy (a redirect or a retry of it)."""
        self.session = other.session
        self.options = other.options
        self.deadline = other.deadline
        self.proxy = other.proxy
        self.proxy_auth = other.proxy_auth
        self.proxy_headers = other.proxy_headers

    def __repr__(self) -> str:
        return f"<ClientRequest({self.method} {self.url})>"

    @property
    def body(self) -> bytes:
        """The body when it is held in memory (b"" for a streamed one)."""
        return self.payload.data or b""

    @property
    def is_ssl(self) -> bool:
        return self.url.scheme in _SECURE_SCHEMES

    @property
    def idempotent(self) -> bool:
        return self.method in _IDEMPOTENT

    @property
    def request_info(self) -> RequestInfo:
        return self.make_request_info()

    def make_request_info(self) -> RequestInfo:
        return RequestInfo(self.url, self.method, CIMultiDictProxy(self.headers), self.original_url)

    def host_header(self) -> str:
        return host_header(self._url)

    def has_host(self) -> bool:
        return self._target is not None or "Host" in self.headers

    def serialize_head(self) -> tuple[bytes, bytes | None, AsyncIterator[bytes] | None]:
        """The head bytes, and the body: bytes to send with the head, or a stream of chunks.

        A stream comes back already framed (chunked) when no length is known.
        """
        plain = self._target
        if (
            plain is not None
            and self.payload is EMPTY
            and not self.compress
            and not self.chunked
            and self.method in NO_LENGTH_METHODS
            and (self.proxy is None or self.is_ssl)
        ):
            return plain.head(self.method), None, None
        headers = self.headers
        payload = self.payload
        data = payload.data
        stream: Any = payload.stream
        if self.compress and self.compress != "identity":
            wbits = (
                16 + zlib_backend.MAX_WBITS if self.compress == "gzip" else zlib_backend.MAX_WBITS
            )
            if data is not None:
                comp = zlib_backend.backend.compressobj(wbits=wbits)
                data = comp.compress(data) + comp.flush()
                size: int | None = len(data)
            else:
                stream = _compressed(stream, wbits)
                size = None
            headers["Content-Encoding"] = self.compress
        else:
            size = payload.size
        if (stream is not None or data) and "Content-Type" not in headers and payload.content_type:
            headers["Content-Type"] = payload.content_type
        chunked = self.chunked or (stream is not None and size is None)
        if "Transfer-Encoding" in headers:
            chunked = "chunked" in headers["Transfer-Encoding"].lower()
        if chunked:
            headers.popall("Content-Length", None)
            if "Transfer-Encoding" not in headers:
                headers["Transfer-Encoding"] = "chunked"
        elif "Content-Length" not in headers and (
            size or self.method not in ("GET", "HEAD", "OPTIONS", "TRACE", "CONNECT")
        ):
            headers["Content-Length"] = str(size or 0)
        if self.expect100 and (stream is not None or data):
            headers["Expect"] = "100-continue"
        if self.proxy is not None and not self.is_ssl:
            target = str(self.url)  # absolute-form, as a forward proxy needs (RFC 9112 3.2.2)
        else:
            target = self.url.raw_path_qs or "/"
        head = _serialize_head(self.method, target, headers.items())
        if stream is not None and chunked:
            return head, None, _chunked(stream)
        if stream is None and chunked:
            return (
                head,
                (b"%x\r\n%b\r\n0\r\n\r\n" % (len(data), data)) if data else b"0\r\n\r\n",
                None,
            )
        return head, data or None, stream


def _serialize_head(method: str, target: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """The request head; validated once as a whole (every line ends in the one CRLF we put
    there, no NUL), the per-header check runs only to name the culprit."""
    lines = [f"{name}: {value}\r\n" for name, value in headers]
    head = f"{method} {target} HTTP/1.1\r\n{''.join(lines)}\r\n"
    expected = len(lines) + 2
    if (
        head.count("\n") != expected
        or head.count("\r") != expected
        or "\x00" in head
        or " " in target
    ):
        return serialize_request_head(method, target, headers)  # raises the precise error
    return head.encode("utf-8")


async def _chunked(stream: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        if chunk:
            yield b"%x\r\n%b\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


def default_headers() -> CIMultiDict[str]:
    return CIMultiDict(
        [
            ("Accept", "*/*"),
            ("Accept-Encoding", accept_encoding()),
            ("User-Agent", DEFAULT_USER_AGENT),
        ]
    )


def make_body(
    data: Any,
    json: Any,
    content_type: str | None,
    json_serialize: Callable[[Any], str],
    json_serialize_bytes: Callable[[Any], bytes] | None = None,
) -> Payload:
    """The body of a call: ``json`` serialised (by ``json_serialize_bytes`` when given, which
    skips the encode step, else ``json_serialize``) or ``data`` as a payload."""
    if data is not None and json is not None:
        raise ValueError("data and json parameters can not be used at the same time")
    if json is not None:
        body = (
            json_serialize_bytes(json)
            if json_serialize_bytes is not None
            else json_serialize(json).encode("utf-8")
        )
        return Payload(body, content_type=content_type or "application/json")
    if data is None:
        if content_type is not None:
            return Payload(b"", content_type=content_type)
        return EMPTY
    return make_payload(data, content_type)


json_dumps = jsonlib.dumps
