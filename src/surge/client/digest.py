"""HTTP Digest authentication (RFC 7616) as a client middleware.

``ClientSession(middlewares=(DigestAuthMiddleware("user", "pass"),))``: a 401 carrying a
``Digest`` challenge is answered once with the computed credentials; later requests to the
same protection space send them up front (``preemptive=True``), counting ``nc`` per nonce.
Algorithms: MD5, SHA-256, SHA-512-256 and their ``-sess`` forms; qop ``auth`` and
``auth-int`` (the latter only for a body held in memory).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from typing import Any

from yarl import URL

from surge.client.middlewares import ClientHandlerType
from surge.client.request import ClientRequest
from surge.client.response import ClientResponse

__all__ = ["DigestAuthMiddleware", "parse_challenge"]

_PARAM = re.compile(r'([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def _sha512_256(data: bytes) -> Any:
    return hashlib.new("sha512_256", data)


_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": _sha512_256,
}


def parse_challenge(header: str) -> dict[str, str] | None:
    """The parameters of the ``Digest`` challenge in a ``WWW-Authenticate`` value, if any."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for name, value in _PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name.lower()] = value
    return params


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuthMiddleware:
    """Answers ``Digest`` challenges with ``login``/``password`` (aiohttp's middleware)."""

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in username')
        self._login = login
        self._password = password
        self._preemptive = preemptive
        self._challenge: dict[str, str] = {}
        self._origin: URL | None = None
        self._spaces: list[str] = []  # path prefixes (or absolute URLs) of the protection space
        self._last_nonce = ""
        self._nonce_count = 0

    def _in_protection_space(self, url: URL) -> bool:
        if not self._challenge or self._origin is None:
            return False
        for space in self._spaces:
            target = URL(space)
            if target.is_absolute():
                if url.origin() == target.origin() and url.path.startswith(target.path):
                    return True
            elif url.origin() == self._origin and url.path.startswith(space):
                return True
        return False

    def _authorization(self, method: str, url: URL, body: bytes | None) -> str:
        challenge = self._challenge
        realm = challenge.get("realm", "")
        nonce = challenge.get("nonce", "")
        algorithm = challenge.get("algorithm", "MD5")
        base = algorithm.upper().removesuffix("-SESS")
        hashfunc = _HASHES.get(base)
        if hashfunc is None:
            raise ValueError(f"Unsupported digest algorithm: {algorithm}")

        def digest(data: str) -> str:
            return str(hashfunc(data.encode("utf-8")).hexdigest())

        offered = [q.strip().lower() for q in challenge.get("qop", "").split(",") if q.strip()]
        if "auth" in offered or (offered and body is None):
            qop = "auth" if "auth" in offered else ""
        else:
            qop = "auth-int" if "auth-int" in offered else ""
        if offered and not qop:
            raise ValueError(f"Unsupported qop: {challenge.get('qop')}")
        if nonce == self._last_nonce:
            self._nonce_count += 1
        else:
            self._last_nonce = nonce
            self._nonce_count = 1
        nc = f"{self._nonce_count:08x}"
        cnonce = os.urandom(16).hex()
        uri = url.raw_path_qs or "/"
        ha1 = digest(f"{self._login}:{realm}:{self._password}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
        a2 = f"{method}:{uri}"
        if qop == "auth-int":
            a2 += ":" + str(hashfunc(body or b"").hexdigest())
        ha2 = digest(a2)
        if qop:
            response = digest(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            response = digest(f"{ha1}:{nonce}:{ha2}")
        username = self._login
        userhash = challenge.get("userhash", "").lower() == "true"
        if userhash:
            username = digest(f"{self._login}:{realm}")
        parts = [
            f"username={_quote(username)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"response={_quote(response)}",
            f"algorithm={algorithm}",
        ]
        if qop:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        if "opaque" in challenge:
            parts.append(f"opaque={_quote(challenge['opaque'])}")
        if userhash:
            parts.append("userhash=true")
        return "Digest " + ", ".join(parts)

    def _learn(self, response: ClientResponse, url: URL) -> bool:
        """Keep the response's Digest challenge; False when there is none."""
        for header in response.headers.getall("WWW-Authenticate", ()):
            challenge = parse_challenge(header)
            if challenge is not None and "nonce" in challenge:
                self._challenge = challenge
                self._origin = url.origin()
                domain = challenge.get("domain", "")
                self._spaces = domain.split() if domain else ["/"]
                return True
        return False

    async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        url = request.url
        if self._preemptive and self._in_protection_space(url):
            request.headers["Authorization"] = self._authorization(
                request.method, url, request.payload.data
            )
            sent_nonce: str | None = self._last_nonce
        else:
            sent_nonce = None
        response = await handler(request)
        if response.status != 401 or not request.payload.replayable:
            return response
        if not self._learn(response, url):
            return response
        stale = self._challenge.get("stale", "").lower() == "true"
        if sent_nonce is not None and not stale and self._challenge.get("nonce") == sent_nonce:
            return response  # the credentials themselves were refused
        await response.read()  # a small error page; reading it keeps the connection reusable
        request.headers["Authorization"] = self._authorization(
            request.method, url, request.payload.data
        )
        return await handler(request)
