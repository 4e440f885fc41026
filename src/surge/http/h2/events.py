"""What the HTTP/2 server core reports: one small event class per happening on a stream."""

from __future__ import annotations

from dataclasses import dataclass

from surge.http.h1.parser import RequestHead

__all__ = [
    "ConnectionEnded",
    "H2Event",
    "RequestData",
    "RequestEnded",
    "RequestReceived",
    "StreamReset",
    "StreamWritable",
    "TrailersReceived",
]


@dataclass(slots=True)
class RequestReceived:
    """A request head; ``end_stream`` when it has no body. ``connect_protocol`` is the
    ``:protocol`` of an extended CONNECT (RFC 8441), whose head says GET for a WebSocket."""

    stream_id: int
    head: RequestHead
    end_stream: bool
    connect_protocol: bytes | None = None


@dataclass(slots=True)
class RequestData:
    """Body bytes; ``flow_length`` (data plus padding) is what ``acknowledge`` takes."""

    stream_id: int
    data: bytes
    flow_length: int


@dataclass(slots=True)
class TrailersReceived:
    stream_id: int
    headers: list[tuple[bytes, bytes]]


@dataclass(slots=True)
class RequestEnded:
    stream_id: int


@dataclass(slots=True)
class StreamReset:
    """The stream is gone (reset by the peer, or refused by us)."""

    stream_id: int
    error_code: int


@dataclass(slots=True)
class StreamWritable:
    """Buffered response data for this stream went out: its writer may continue."""

    stream_id: int


@dataclass(slots=True)
class ConnectionEnded:
    """The connection is over: the peer sent GOAWAY, or we did after a protocol error
    (``data_to_send`` then holds our GOAWAY)."""

    error_code: int
    by_peer: bool


H2Event = (
    RequestReceived
    | RequestData
    | TrailersReceived
    | RequestEnded
    | StreamReset
    | StreamWritable
    | ConnectionEnded
)
