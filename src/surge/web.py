"""surge.web: the server API, named as in ``aiohttp.web``. Re-exports only."""

from surge.compat.web_extras import (
    NamedPipeSite,
    NotAppKeyWarning,
    PayloadAccessError,
    RequestHandler,
    RequestKey,
    RequestPayloadError,
    ResponseKey,
    json_bytes_response,
)
from surge.server.access_log import AbstractAccessLogger, AccessLogger
from surge.server.app import AppKey, Application, CleanupContext, CleanupError, lifespanContext
from surge.server.exceptions import *  # noqa: F403
from surge.server.exceptions import __all__ as _exceptions_all
from surge.server.fileresponse import FileResponse
from surge.server.full_response import Response, json_response
from surge.server.middlewares import middleware
from surge.server.request import BaseRequest, FileField, Request
from surge.server.response import ContentCoding, StreamResponse
from surge.server.routing.match import MatchInfoError, UrlMappingMatchInfo
from surge.server.routing.resources import (
    AbstractResource,
    AbstractRoute,
    DynamicResource,
    PlainResource,
    Resource,
    ResourceRoute,
)
from surge.server.routing.router import UrlDispatcher
from surge.server.run import run_app
from surge.server.runner import (
    AppRunner,
    BaseRunner,
    BaseSite,
    GracefulExit,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
)
from surge.server.server import Server
from surge.server.signals import Signals
from surge.typedefs import Handler, Middleware

__all__ = [
    "AbstractAccessLogger",
    "AbstractResource",
    "AbstractRoute",
    "AccessLogger",
    "AppKey",
    "AppRunner",
    "FileResponse",
    "Application",
    "BaseRequest",
    "BaseRunner",
    "BaseSite",
    "CleanupContext",
    "ContentCoding",
    "DynamicResource",
    "FileField",
    "GracefulExit",
    "Handler",
    "MatchInfoError",
    "Middleware",
    "PlainResource",
    "Request",
    "Resource",
    "ResourceRoute",
    "Response",
    "Server",
    "ServerRunner",
    "SockSite",
    "StreamResponse",
    "TCPSite",
    "UnixSite",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
    "json_response",
    "lifespanContext",
    "middleware",
    "run_app",
    *_exceptions_all,
]

# --- routing: route tables, class views, sub-applications, path normalisation ---------------
# --- WebSocket and Server-Sent Events ------------------------------------------------------
from surge.http.ws.models import WSCloseCode, WSMessage, WSMsgType
from surge.server.middlewares import normalize_path_middleware
from surge.server.routing.routedef import (
    AbstractRouteDef,
    RouteDef,
    RouteTableDef,
    StaticDef,
    delete,
    get,
    head,
    options,
    patch,
    post,
    put,
    route,
    static,
    view,
)
from surge.server.routing.static import StaticResource
from surge.server.routing.subapps import (
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
)
from surge.server.routing.views import AbstractView, View
from surge.server.sse import EventSourceResponse, sse_response
from surge.server.websocket import WebSocketReady, WebSocketResponse

__all__ += [
    "AbstractRouteDef",
    "AbstractView",
    "Domain",
    "MaskDomain",
    "MatchedSubAppResource",
    "PrefixedSubAppResource",
    "RouteDef",
    "RouteTableDef",
    "StaticDef",
    "StaticResource",
    "View",
    "delete",
    "get",
    "head",
    "normalize_path_middleware",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "static",
    "view",
]

__all__ += [
    "EventSourceResponse",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketReady",
    "WebSocketResponse",
    "sse_response",
]


# --- the rest of aiohttp.web's surface ----------------------------------------------------
__all__ += [
    "CleanupError",
    "NamedPipeSite",
    "NotAppKeyWarning",
    "PayloadAccessError",
    "RequestHandler",
    "RequestKey",
    "RequestPayloadError",
    "ResponseKey",
    "Signals",
    "json_bytes_response",
]

if __name__ == "__main__":  # python -m surge.web module:factory
    from surge.cli import web_main

    web_main()
