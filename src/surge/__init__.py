"""surge: an asynchronous HTTP client/server framework for asyncio, with aiohttp's API.

The client API lives here (``surge.ClientSession``); the server API in :mod:`surge.web`.
"""

from surge import hdrs
from surge.net.streams import EMPTY_PAYLOAD, EofStream, StreamReader

__version__ = "0.1.0"

__all__ = ["EMPTY_PAYLOAD", "EofStream", "StreamReader", "__version__", "hdrs"]
