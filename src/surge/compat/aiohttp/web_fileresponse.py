"""``aiohttp.web_fileresponse`` on surge: the same public names, from surge's modules."""

from surge.web import (
    FileResponse,
)

__all__ = [
    "FileResponse",
]
