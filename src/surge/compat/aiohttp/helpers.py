"""``aiohttp.helpers`` on surge: the same public names, from surge's modules."""

from surge import (
    BasicAuth,
    ChainMapProxy,
    ETag,
    encode_basic_auth,
)
from surge.util.reify import reify

__all__ = [
    "BasicAuth",
    "ChainMapProxy",
    "ETag",
    "encode_basic_auth",
    "reify",
]
