"""``aiohttp.streams`` on surge: the same public names, from surge's modules."""

from surge import (
    EMPTY_PAYLOAD,
    DataQueue,
    EofStream,
    FlowControlDataQueue,
    StreamReader,
)

__all__ = [
    "EMPTY_PAYLOAD",
    "DataQueue",
    "EofStream",
    "FlowControlDataQueue",
    "StreamReader",
]
