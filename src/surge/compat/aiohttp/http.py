"""``aiohttp.http`` on surge: the same public names, from surge's modules.

Not provided (aiohttp internals with no surge counterpart): StreamWriter, HeadersParser, HttpParser, HttpRequestParser, HttpResponseParser, RawRequestMessage, RawResponseMessage, WebSocketReader, WebSocketWriter, ws_ext_gen, ws_ext_parse, WSMessageDecodeText, WSMessageNoDecodeText, WSMessageTextBytes.
"""

import http.server

from surge import (
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    StreamReader,
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
)
from surge.compat.aiohttp.http_exceptions import HttpProcessingError
from surge.http.ws.models import CLOSED_MESSAGE as WS_CLOSED_MESSAGE
from surge.http.ws.models import CLOSING_MESSAGE as WS_CLOSING_MESSAGE

WS_KEY = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SERVER_SOFTWARE = "Python/surge"
RESPONSES = http.server.BaseHTTPRequestHandler.responses

__all__ = [
    "RESPONSES",
    "SERVER_SOFTWARE",
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "HttpProcessingError",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "StreamReader",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketError",
]
