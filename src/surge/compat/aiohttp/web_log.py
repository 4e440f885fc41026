"""``aiohttp.web_log`` on surge: the same public names, from surge's modules."""

from surge.web import (
    AbstractAccessLogger,
    AccessLogger,
)

__all__ = [
    "AbstractAccessLogger",
    "AccessLogger",
]
