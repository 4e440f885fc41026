"""``aiohttp.web_server`` on surge: the same public names, from surge's modules."""

from surge.web import (
    Server,
)

__all__ = [
    "Server",
]
