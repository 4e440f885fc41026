"""WebSocket protocol errors; each carries the close code the connection ends with."""

from __future__ import annotations

from typing import Any

__all__ = ["WSHandshakeError", "WSProtocolError"]


class WSProtocolError(Exception):
    """The peer broke RFC 6455/7692 (or a limit); ``code`` is the close code to send."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        # Messages completed before the fault in the same chunk (set by WSConnection).
        self.messages: list[Any] = []

    def __str__(self) -> str:
        return self.message


class WSHandshakeError(Exception):
    """An opening handshake that cannot be accepted; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
