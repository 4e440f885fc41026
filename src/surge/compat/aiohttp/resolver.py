"""``aiohttp.resolver`` on surge: the same public names, from surge's modules."""

from surge import (
    AsyncResolver,
    DefaultResolver,
    ThreadedResolver,
)

__all__ = [
    "AsyncResolver",
    "DefaultResolver",
    "ThreadedResolver",
]
