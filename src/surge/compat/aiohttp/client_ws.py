"""``aiohttp.client_ws`` on surge: the same public names, from surge's modules."""

from surge import (
    ClientWebSocketResponse,
    ClientWSTimeout,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMessageTypeError,
    WSMsgType,
)

__all__ = [
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "WSCloseCode",
    "WSMessage",
    "WSMessageTypeError",
    "WSMsgType",
    "WebSocketError",
]
