"""``aiohttp.web_exceptions`` on surge: the same public names, from surge's modules."""

from surge.server.exceptions import *  # noqa: F403 - the module's whole public surface
from surge.server.exceptions import __all__ as __all__
