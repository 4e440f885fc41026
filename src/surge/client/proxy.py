"""HTTP proxies: which proxy a URL goes through, and the ``CONNECT`` tunnel for https targets.

An http:// target is sent to the proxy in absolute form (``GET http://host/path``) with
``Proxy-Authorization``; an https:// target gets a ``CONNECT host:port`` tunnel first and TLS to
the origin inside it, so the proxy never sees the request (a WebSocket, ws:// or wss://,
always tunnels). With ``trust_env=True`` the proxy comes from ``HTTP_PROXY``/``HTTPS_PROXY``
(``WS_PROXY``/``WSS_PROXY`` for a WebSocket; ``NO_PROXY`` excepted) and credentials from the
proxy URL or ``~/.netrc`` (``NETRC`` names another file).
"""

from __future__ import annotations

import netrc
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

from multidict import CIMultiDict
from yarl import URL

from surge.client.auth import BasicAuth
from surge.http.h1.writer import serialize_request_head

__all__ = ["connect_head", "netrc_auth", "proxy_from_env", "proxy_url"]

_bypass: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
# aiohttp's names: a WebSocket takes WS_PROXY / WSS_PROXY, never HTTP(S)_PROXY.
_ENV_SCHEMES = frozenset({"http", "https", "ws", "wss"})


def proxy_url(proxy: str | URL, proxy_auth: BasicAuth | None) -> tuple[URL, BasicAuth | None]:
    """The proxy as a URL without credentials, and the credentials (explicit ones win)."""
    url = proxy if isinstance(proxy, URL) else URL(proxy)
    if url.scheme != "http":
        raise ValueError(f"Only http proxies are supported, got {url}")
    if proxy_auth is not None and not isinstance(proxy_auth, BasicAuth):
        raise ValueError("proxy_auth must be None or BasicAuth() tuple")
    from_url = BasicAuth.from_url(url)
    if from_url is not None:
        url = url.with_user(None)
    return url, proxy_auth or from_url


def netrc_auth(host: str | None) -> BasicAuth | None:
    """Credentials for ``host`` from the netrc file (``$NETRC`` or ``~/.netrc``), if any."""
    if not host:
        return None
    path = os.environ.get("NETRC")
    if not path:
        try:
            path = str(Path.home() / ".netrc")
        except RuntimeError:  # no home directory
            return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if entry is None:
        return None
    login, _, password = entry
    return BasicAuth(login or "", password or "")


def proxy_from_env(url: URL) -> tuple[URL, BasicAuth | None] | None:
    """The proxy the environment names for ``url`` (None: go direct)."""
    if url.scheme not in _ENV_SCHEMES:
        return None
    proxies = urllib.request.getproxies_environment()
    raw = proxies.get(url.scheme)
    if not raw:
        return None
    if url.host and _bypass(url.host, proxies):
        return None
    try:
        proxy, auth = proxy_url(raw, None)
    except ValueError:
        return None  # e.g. a socks5:// proxy: not ours to speak
    return proxy, auth or netrc_auth(proxy.host)


def connect_head(
    host: str, port: int, proxy_auth: BasicAuth | None, proxy_headers: CIMultiDict[str] | None
) -> bytes:
    """The ``CONNECT`` request opening a tunnel to ``host:port``."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    headers: CIMultiDict[str] = CIMultiDict(Host=authority)
    if proxy_headers:
        headers.extend(proxy_headers)
    if proxy_auth is not None:
        headers["Proxy-Authorization"] = proxy_auth.encode()
    return serialize_request_head("CONNECT", authority, headers.items())
