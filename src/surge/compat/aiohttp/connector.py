"""``aiohttp.connector`` on surge: the same public names, from surge's modules."""

from surge import (
    AddrInfoType,
    BaseConnector,
    NamedPipeConnector,
    SocketFactoryType,
    TCPConnector,
    UnixConnector,
)

__all__ = [
    "AddrInfoType",
    "BaseConnector",
    "NamedPipeConnector",
    "SocketFactoryType",
    "TCPConnector",
    "UnixConnector",
]
