"""``aiohttp.multipart`` on surge: the same public names, from surge's modules."""

from surge import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    BodyPartReader,
    MultipartReader,
    MultipartWriter,
    content_disposition_filename,
    parse_content_disposition,
)
from surge.net.multipart import MultipartResponseWrapper

__all__ = [
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BodyPartReader",
    "MultipartReader",
    "MultipartResponseWrapper",
    "MultipartWriter",
    "content_disposition_filename",
    "parse_content_disposition",
]
