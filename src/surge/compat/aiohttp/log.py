"""``aiohttp.log`` on surge: the loggers, under surge's names (``surge.access``, ...)."""

import logging

access_logger = logging.getLogger("surge.access")
client_logger = logging.getLogger("surge.client")
internal_logger = logging.getLogger("surge.internal")
server_logger = logging.getLogger("surge.server")
web_logger = logging.getLogger("surge.web")
ws_logger = logging.getLogger("surge.websocket")

__all__ = [
    "access_logger",
    "client_logger",
    "internal_logger",
    "server_logger",
    "web_logger",
    "ws_logger",
]
