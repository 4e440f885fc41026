"""``aiohttp.web_response`` on surge: the same public names, from surge's modules."""

from surge.web import (
    ContentCoding,
    Response,
    StreamResponse,
    json_bytes_response,
    json_response,
)

__all__ = [
    "ContentCoding",
    "Response",
    "StreamResponse",
    "json_bytes_response",
    "json_response",
]
