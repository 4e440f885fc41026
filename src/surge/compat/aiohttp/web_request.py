"""``aiohttp.web_request`` on surge: the same public names, from surge's modules."""

from surge.web import (
    BaseRequest,
    FileField,
    Request,
)

__all__ = [
    "BaseRequest",
    "FileField",
    "Request",
]
