"""``ClientTimeout``: the client's time limits, all in seconds and all optional."""

from __future__ import annotations

import dataclasses

__all__ = ["DEFAULT_TIMEOUT", "ClientTimeout"]


@dataclasses.dataclass(frozen=True, slots=True)
class ClientTimeout:
    """Time limits of a request, as aiohttp's.

    ``total`` bounds the whole exchange (connecting, sending, and reading the body);
    ``connect`` bounds getting a connection (pool wait included); ``sock_connect`` bounds
    one TCP/TLS connect; ``sock_read`` bounds the silence between two reads.
    ``ClientTimeout(total=30, connect=5, sock_read=10)``
    """

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5


DEFAULT_TIMEOUT = ClientTimeout(total=5 * 60, sock_connect=30)
