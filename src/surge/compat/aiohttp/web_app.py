"""``aiohttp.web_app`` on surge: the same public names, from surge's modules."""

from surge.web import (
    Application,
    CleanupError,
)

__all__ = [
    "Application",
    "CleanupError",
]
