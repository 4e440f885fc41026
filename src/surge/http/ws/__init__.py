"""WebSocket protocol core (RFC 6455, RFC 7692): sans-IO, bytes in, messages out."""

from surge.http.ws.connection import WSConnection
from surge.http.ws.errors import WSHandshakeError, WSProtocolError
from surge.http.ws.models import WSCloseCode, WSMessage, WSMsgType

__all__ = [
    "WSCloseCode",
    "WSConnection",
    "WSHandshakeError",
    "WSMessage",
    "WSMsgType",
    "WSProtocolError",
]
