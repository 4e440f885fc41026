"""The client's exception hierarchy: aiohttp's names and bases, so ``except`` clauses port as is."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from surge.client.request import RequestInfo

__all__ = [
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ConnectionKey",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "TooManyRedirects",
    "UploadAbortedError",
    "WSServerHandshakeError",
]


class ConnectionKey(NamedTuple):
    """What makes two connections interchangeable in the pool."""

    host: str
    port: int | None
    is_ssl: bool
    ssl: Any
    server_hostname: str | None
    proxy: Any = None
    proxy_auth: Any = None
    proxy_headers_hash: int | None = None


class ClientError(Exception):
    """Base class of every client error."""


class ClientResponseError(ClientError):
    """A response could not be used: an error status, or a malformed response."""

    def __init__(
        self,
        request_info: RequestInfo | None,
        history: tuple[Any, ...] = (),
        *,
        status: int | None = None,
        message: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.request_info = request_info
        self.status = status if status is not None else 0
        self.message = message
        self.headers = headers
        self.history = history
        super().__init__(request_info)

    def __str__(self) -> str:
        url = self.request_info.real_url if self.request_info is not None else ""
        return f"{self.status}, message={self.message!r}, url={str(url)!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.request_info!r}, {self.history!r}, status={self.status!r}, message={self.message!r})"

    @property
    def code(self) -> int:
        return self.status


class ContentTypeError(ClientResponseError):
    """``response.json()`` met a body whose Content-Type is not JSON."""


class WSServerHandshakeError(ClientResponseError):
    """The server refused a WebSocket handshake."""


class ClientHttpProxyError(ClientResponseError):
    """The HTTP proxy answered with an error status."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects``."""


class ClientConnectionError(ClientError):
    """Base class of the errors about the connection itself."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset while the client wrote to it."""


class ClientOSError(ClientConnectionError, OSError):
    """An OS error on the connection."""


class ClientConnectorError(ClientOSError):
    """The connection could not be made (refused port, unreachable host...)."""

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        return self._os_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> Any:
        return self._conn_key.ssl

    def __str__(self) -> str:
        ssl_repr = self.ssl if self.ssl is not None else "default"
        return f"Cannot connect to host {self.host}:{self.port} ssl:{ssl_repr} [{self.strerror or self._os_error}]"

    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved."""


class ClientProxyConnectionError(ClientConnectorError):
    """The proxy could not be reached."""


class ClientSSLError(ClientConnectorError):
    """Base class of TLS errors while connecting."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed."""


class ClientConnectorCertificateError(ClientSSLError, ssl.SSLCertVerificationError):
    """The server's certificate did not verify."""

    def __init__(self, connection_key: ConnectionKey, certificate_error: Exception) -> None:
        self._certificate_error = certificate_error
        os_error = OSError(getattr(certificate_error, "errno", None), str(certificate_error))
        super().__init__(connection_key, os_error)
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        return self._certificate_error

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl!r} "
            f"[{type(self._certificate_error).__name__}: {self._certificate_error.args}]"
        )


class ServerConnectionError(ClientConnectionError):
    """Base class of the errors the server's side of the connection causes."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete."""

    def __init__(self, message: str | None = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.message = message
        super().__init__(message)


class ServerTimeoutError(ServerConnectionError, TimeoutError):
    """A timeout while talking to the server."""


class ConnectionTimeoutError(ServerTimeoutError):
    """Connecting took longer than the ``connect``/``sock_connect`` timeout."""


class SocketTimeoutError(ServerTimeoutError):
    """No data arrived within the ``sock_read`` timeout."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server's certificate does not match the pinned fingerprint."""

    def __init__(self, expected: bytes, got: bytes, host: str, port: int) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        super().__init__(expected, got, host, port)


class ClientPayloadError(ClientError):
    """The response body was malformed, truncated or could not be decoded."""


class InvalidURL(ClientError, ValueError):
    """The URL cannot be requested (no host, bad syntax...)."""

    def __init__(self, url: Any, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Any:
        return self._url

    @property
    def description(self) -> str | None:
        return self._description

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)


class InvalidUrlClientError(InvalidURL):
    """The URL given to a request is invalid."""


class RedirectClientError(ClientError):
    """Base class of the errors about a redirect target."""


class NonHttpUrlClientError(ClientError):
    """The URL's scheme is not http or https."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect's Location is not a valid URL."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect points to a scheme other than http or https."""


class UploadAbortedError(ClientError):
    """The request body's upload was aborted."""
