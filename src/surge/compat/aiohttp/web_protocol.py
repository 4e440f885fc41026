"""``aiohttp.web_protocol`` on surge: the same public names, from surge's modules."""

from surge.web import (
    PayloadAccessError,
    RequestHandler,
    RequestPayloadError,
)

__all__ = [
    "PayloadAccessError",
    "RequestHandler",
    "RequestPayloadError",
]
