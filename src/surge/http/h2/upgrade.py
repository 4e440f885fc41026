"""Choosing HTTP/2 on a new connection: the prior-knowledge preface and ``Upgrade: h2c``.

Sniffing looks only at a connection's first bytes; the h2c check only at one request head.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["PREFACE", "SWITCHING_PROTOCOLS", "h2c_settings", "sniff"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SWITCHING_PROTOCOLS = (
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
)


def sniff(data: bytes) -> Literal["h1", "h2"] | None:
    """``"h2"`` when ``data`` starts with the preface, ``"h1"`` when it cannot, else None
    (too few bytes to tell)."""
    if data.startswith(PREFACE):
        return "h2"
    if PREFACE.startswith(data):
        return None
    return "h1"


def h2c_settings(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The ``HTTP2-Settings`` value of an HTTP/1.1 request asking to upgrade to h2c (RFC 7540
    section 3.2), else None."""
    upgrade = settings = None
    connection = b""
    for name, value in headers:
        lname = name.lower()
        if lname == b"upgrade":
            upgrade = value
        elif lname == b"http2-settings":
            if settings is not None:
                return None  # exactly one is allowed
            settings = value.strip()
        elif lname == b"connection":
            connection += b"," + value.lower()
    if upgrade is None or settings is None:
        return None
    if b"h2c" not in (p.strip().lower() for p in upgrade.split(b",")):
        return None
    tokens = {p.strip() for p in connection.split(b",")}
    if b"upgrade" not in tokens or b"http2-settings" not in tokens:
        return None
    return settings
