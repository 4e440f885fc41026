"""``aiohttp.web_runner`` on surge: the same public names, from surge's modules."""

from surge.web import (
    AppRunner,
    BaseRunner,
    BaseSite,
    GracefulExit,
    NamedPipeSite,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
)

__all__ = [
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "NamedPipeSite",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
]
