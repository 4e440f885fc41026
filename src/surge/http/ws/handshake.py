"""The opening handshake (RFC 6455 section 4): keys, header checks, negotiation.

Both sides' checks are pure functions of header values, so the server and the client share
them and tests can drive them without sockets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from surge.http.ws.deflate import DeflateParams, client_accept, server_accept
from surge.http.ws.errors import WSHandshakeError

__all__ = [
    "ClientHandshake",
    "ServerHandshake",
    "accept_key",
    "check_client_response",
    "check_server_request",
    "make_key",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode()


def make_key() -> str:
    """A fresh random ``Sec-WebSocket-Key``."""
    return base64.b64encode(os.urandom(16)).decode()


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",")}


@dataclass(frozen=True, slots=True)
class ServerHandshake:
    """What the server answers with: headers of the 101, the protocol and extension."""

    headers: tuple[tuple[str, str], ...]
    protocol: str | None
    deflate: DeflateParams | None


def select_protocol(offered: str, supported: Iterable[str]) -> str | None:
    """The first of the server's ``supported`` protocols that the client offered."""
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    for proto in supported:
        if proto in wanted:
            return proto
    return None


def check_server_request(
    method: str,
    headers: Mapping[str, str],
    *,
    protocols: Iterable[str] = (),
    compress: bool = True,
) -> ServerHandshake:
    """Validate a client's opening request; raise :class:`WSHandshakeError` (400 or 426)."""
    if method != "GET":
        raise WSHandshakeError(f"WebSocket handshake must use GET, not {method}", 405)
    if "websocket" not in _tokens(headers.get("Upgrade", "")):
        raise WSHandshakeError("No WebSocket UPGRADE hdr: {}".format(headers.get("Upgrade")))
    if "upgrade" not in _tokens(headers.get("Connection", "")):
        raise WSHandshakeError("No CONNECTION upgrade hdr: {}".format(headers.get("Connection")))
    key = headers.get("Sec-WebSocket-Key", "").strip()
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise WSHandshakeError(f"Handshake error: {key!r}")
    version = headers.get("Sec-WebSocket-Version", "")
    if version.strip() != "13":
        raise WSHandshakeError(f"Unsupported version: {version}", 426)
    answer: list[tuple[str, str]] = [
        ("Upgrade", "websocket"),
        ("Connection", "upgrade"),
        ("Sec-WebSocket-Accept", accept_key(key)),
    ]
    protocol = select_protocol(headers.get("Sec-WebSocket-Protocol", ""), protocols)
    if protocol is not None:
        answer.append(("Sec-WebSocket-Protocol", protocol))
    deflate = None
    offer = headers.get("Sec-WebSocket-Extensions")
    if compress and offer:
        accepted = server_accept(offer)
        if accepted is not None:
            value, deflate = accepted
            answer.append(("Sec-WebSocket-Extensions", value))
    return ServerHandshake(tuple(answer), protocol, deflate)


@dataclass(frozen=True, slots=True)
class ClientHandshake:
    """What the client learned from a successful 101."""

    protocol: str | None
    deflate: DeflateParams | None


def check_client_response(
    status: int,
    headers: Mapping[str, str],
    *,
    key: str,
    protocols: Iterable[str] = (),
    offered_no_context_takeover: bool = False,
) -> ClientHandshake:
    """Validate a server's answer to our opening request; raise :class:`WSHandshakeError`."""
    if status != 101:
        raise WSHandshakeError("Invalid response status", status)
    if "websocket" not in _tokens(headers.get("Upgrade", "")):
        raise WSHandshakeError("Invalid upgrade header", status)
    if "upgrade" not in _tokens(headers.get("Connection", "")):
        raise WSHandshakeError("Invalid connection header", status)
    if headers.get("Sec-WebSocket-Accept", "").strip() != accept_key(key):
        raise WSHandshakeError("Invalid challenge response", status)
    protocol = headers.get("Sec-WebSocket-Protocol")
    if protocol is not None:
        protocol = protocol.strip()
        if protocol not in set(protocols):
            raise WSHandshakeError(f"Server chose a protocol we did not offer: {protocol}")
    deflate = None
    ext = headers.get("Sec-WebSocket-Extensions")
    if ext:
        deflate = client_accept(ext, offered_no_context_takeover=offered_no_context_takeover)
    return ClientHandshake(protocol, deflate)
