"""``aiohttp.web_ws`` on surge: the same public names, from surge's modules."""

from surge import (
    WSMsgType,
)
from surge.web import (
    WebSocketReady,
    WebSocketResponse,
)

__all__ = [
    "WSMsgType",
    "WebSocketReady",
    "WebSocketResponse",
]
