"""HTTP/2 limits: what the server advertises and the abuse bounds it enforces.

The advertised values go into the first SETTINGS frame; the abuse bounds are token buckets
(a burst, then a sustained rate per second) checked by the connection core.
"""

from __future__ import annotations

from dataclasses import dataclass

from h2.settings import SettingCodes

__all__ = ["H2Limits", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class H2Limits:
    """Per-connection HTTP/2 limits (the defaults suit a public server)."""

    max_concurrent_streams: int = 100
    # Receive window per stream; the connection window is opened to cover all streams.
    initial_window_size: int = 2**20
    max_frame_size: int = 2**14
    max_header_list_size: int = 2**16
    # Streams the peer may reset (CVE-2023-44487 "rapid reset"): burst, then per second.
    reset_burst: int = 200
    reset_rate: float = 100.0
    # SETTINGS and PING frames (each one makes us write an ACK): burst, then per second.
    control_burst: int = 500
    control_rate: float = 200.0
    # Seconds a stream's buffered response may wait for the peer to open its window.
    send_timeout: float = 30.0
    # Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL: WebSocket over HTTP/2 (RFC 8441).
    websocket: bool = True

    def local_settings(self) -> dict[SettingCodes, int]:
        return {
            SettingCodes.MAX_CONCURRENT_STREAMS: self.max_concurrent_streams,
            SettingCodes.INITIAL_WINDOW_SIZE: self.initial_window_size,
            SettingCodes.MAX_FRAME_SIZE: self.max_frame_size,
            SettingCodes.MAX_HEADER_LIST_SIZE: self.max_header_list_size,
            SettingCodes.ENABLE_CONNECT_PROTOCOL: int(self.websocket),
        }


class TokenBucket:
    """``take(now)`` is False once more than ``burst`` events came faster than ``rate``/s."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, burst: int, rate: float) -> None:
        self._burst = float(burst)
        self._rate = rate
        self._tokens = float(burst)
        self._last: float | None = None

    def take(self, now: float) -> bool:
        last = self._last
        if last is not None and now > last:
            self._tokens = min(self._burst, self._tokens + (now - last) * self._rate)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
