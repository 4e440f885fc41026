"""``aiohttp.client_reqrep`` on surge: the same public names, from surge's modules."""

from surge import (
    ClientRequest,
    ClientResponse,
    Fingerprint,
    RequestInfo,
)

__all__ = [
    "ClientRequest",
    "ClientResponse",
    "Fingerprint",
    "RequestInfo",
]
