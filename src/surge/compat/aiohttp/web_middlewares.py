"""``aiohttp.web_middlewares`` on surge: the same public names, from surge's modules."""

from surge.web import (
    middleware,
    normalize_path_middleware,
)

__all__ = [
    "middleware",
    "normalize_path_middleware",
]
