"""``aiohttp.http_websocket`` on surge: the same public names, from surge's modules.

Not provided (aiohttp internals with no surge counterpart): WebSocketReader, WebSocketWriter, WSMessageDecodeText, WSMessageNoDecodeText, WSMessageTextBytes, ws_ext_gen, ws_ext_parse, WSHandshakeError.
"""

from surge import (
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from surge.http.ws.models import CLOSED_MESSAGE as WS_CLOSED_MESSAGE
from surge.http.ws.models import CLOSING_MESSAGE as WS_CLOSING_MESSAGE

WS_KEY = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

__all__ = [
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketError",
]
