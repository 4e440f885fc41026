"""``aiohttp.web_urldispatcher`` on surge: the same public names, from surge's modules."""

from surge.web import (
    AbstractResource,
    AbstractRoute,
    DynamicResource,
    PlainResource,
    Resource,
    ResourceRoute,
    StaticResource,
    UrlDispatcher,
    UrlMappingMatchInfo,
    View,
)

__all__ = [
    "AbstractResource",
    "AbstractRoute",
    "DynamicResource",
    "PlainResource",
    "Resource",
    "ResourceRoute",
    "StaticResource",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
    "View",
]
