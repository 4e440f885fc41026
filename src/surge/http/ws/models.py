"""The public WebSocket value types: message kinds, close codes and the message tuple."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["WSCloseCode", "WSMessage", "WSMsgType"]


class WSMsgType(enum.IntEnum):
    """Kinds of :class:`WSMessage`: the RFC 6455 opcodes plus local states."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSCloseCode(enum.IntEnum):
    """Registered close codes (RFC 6455 section 7.4.1 and IANA)."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMessage(NamedTuple):
    """One received message: ``type``, ``data`` (str, bytes, close code or exception), ``extra``.

    For ``CLOSE`` the data is the close code and ``extra`` the reason.
    """

    type: WSMsgType
    data: Any
    extra: Any

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """The data parsed as JSON."""
        return loads(self.data)


CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
CLOSING_MESSAGE = WSMessage(WSMsgType.CLOSING, None, None)
