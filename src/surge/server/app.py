"""Application: routes, middlewares, state, signals, lifespan; the request entry point.

The middleware chain for a route is composed once and cached; a handler with no middleware is
called directly. Its parts live next to it: ``AppKey`` (app_keys), ``cleanup_ctx`` and
lifespans (app_lifecycle), the middleware list and chain links (middleware_chain); all are
still importable from here.
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from surge.server.app_keys import AppKey
from surge.server.app_lifecycle import (
    CleanupContext,
    CleanupError,
    _SubappSignal,
    lifespanContext,
    positional_arity,
)
from surge.server.exceptions import HTTPException
from surge.server.middleware_chain import Handler, Middleware, _MiddlewareList, _Next
from surge.server.request import BaseRequest, Request
from surge.server.routing.router import UrlDispatcher
from surge.server.signals import Signal, Signals

if TYPE_CHECKING:
    from surge.server.response import StreamResponse
    from surge.server.routing.match import UrlMappingMatchInfo


__all__ = ["AppKey", "Application", "CleanupContext", "CleanupError", "lifespanContext"]

_T = TypeVar("_T")
web_logger = logging.getLogger("surge.web")
_new_request = object.__new__


def _with_max_fields(factory: Callable[..., Request], limit: int, *args: Any) -> Request:
    # Only for apps with a non-default client_max_fields: the default lives on the class.
    request = factory(*args)
    request._client_max_fields = limit
    return request


class Application(MutableMapping[Any, Any]):
    """A web application: ``app = web.Application(middlewares=[...])``.

    When frozen it also registers the ``@web.get('/x')`` / ``@web.view('/items')`` decorator
    routes written in the module that created it (see ``surge.server.routing.routedef``).
    """

    def __init__(
        self,
        *,
        logger: logging.Logger = web_logger,
        router: UrlDispatcher | None = None,
        middlewares: Sequence[Middleware] = (),
        handler_args: dict[str, Any] | None = None,
        client_max_size: int = 1024**2,
        client_max_fields: int = 1000,
        loop: Any = None,
        debug: Any = ...,
        lifespan: Callable[[Application], Any] | None = None,
        client_max_cache_size: int | None = None,
        compress: bool = True,
    ) -> None:
        if router is None:
            router = UrlDispatcher()
        else:
            # Deprecated in aiohttp 3.3 but still accepted (e.g. a UrlDispatcher subclass).
            warnings.warn("router argument is deprecated", DeprecationWarning, stacklevel=2)
        self._router = router
        self._handler_args = handler_args
        self.logger = logger
        self._middlewares: _MiddlewareList = _MiddlewareList(middlewares)
        self._state: dict[Any, Any] = {}
        self._frozen = False
        self._pre_frozen = False
        self._subapps: list[Application] = []
        self._mounted = False
        # The module that created the app: its ``@web.view``/``@web.get`` decorator routes are
        # picked up when the app is frozen (see surge.server.routing.routedef).
        self._module: str | None = sys._getframe(1).f_globals.get("__name__")
        self._client_max_size = client_max_size
        self._client_max_fields = client_max_fields
        # The spec's "Performance" example: how many idle keep-alive connections the server
        # keeps; past it, the longest-idle ones are closed (see Server.max_idle_connections).
        self._client_max_cache_size = client_max_cache_size
        self._compress = compress
        self._debug = debug
        self._on_response_prepare: Signal = Signal(self)
        self._on_startup: Signal = Signal(self)
        self._on_shutdown: Signal = Signal(self)
        self._on_cleanup: Signal = Signal(self)
        self._on_request_start: Signal = Signal(self)
        self._on_request_match: Signal = Signal(self)
        self._on_exception: Signal = Signal(self)
        self._named_signals = {
            Signals.PRE_SHUTDOWN: Signal(self),
            Signals.POST_SHUTDOWN: Signal(self),
        }
        self._cleanup_ctx = CleanupContext()
        self._on_startup.append(self._cleanup_ctx._on_startup)
        self._on_cleanup.append(self._cleanup_ctx._on_cleanup)
        self._chains: dict[Any, Handler] = {}
        self._apps_tuple = (self,)
        # Set when frozen: no middleware and no response-prepare hooks, so handlers are
        # called directly.
        self._simple = False
        # Set when frozen: request hooks or exception handlers are registered.
        self._hooked = True
        self._exception_arity: dict[Any, int] = {}
        if lifespan is not None:
            self._cleanup_ctx.append(lifespan)

    def __init_subclass__(cls: type[Application]) -> None:
        raise TypeError(f"Inheritance class {cls.__name__} from web.Application is forbidden")

    def __repr__(self) -> str:
        return f"<Application 0x{id(self):x}>"

    def __bool__(self) -> bool:
        return True

    def __call__(self) -> Application:
        """Return the app itself, so a module-level ``app`` works as a factory (gunicorn)."""
        return self

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    # state -----------------------------------------------------------------------------------

    @overload
    def __getitem__(self, key: AppKey[_T]) -> _T: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: Any) -> Any:
        return self._state[key]

    def _check_frozen(self) -> None:
        if self._frozen:
            raise RuntimeError("Changing state of started or joined application is forbidden")

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_frozen()
        self._state[key] = value

    def __delitem__(self, key: Any) -> None:
        self._check_frozen()
        del self._state[key]

    def __len__(self) -> int:
        return len(self._state)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._state)

    # properties ------------------------------------------------------------------------------

    @property
    def router(self) -> UrlDispatcher:
        return self._router

    @property
    def middlewares(self) -> _MiddlewareList:
        return self._middlewares

    @property
    def frozen(self) -> bool:
        return self._frozen

    @property
    def pre_frozen(self) -> bool:
        return self._pre_frozen

    @property
    def debug(self) -> bool:
        return bool(self._debug) if self._debug is not ... else False

    @property
    def on_response_prepare(self) -> Signal:
        return self._on_response_prepare

    @property
    def on_startup(self) -> Signal:
        return self._on_startup

    @property
    def on_shutdown(self) -> Signal:
        return self._on_shutdown

    @property
    def on_cleanup(self) -> Signal:
        return self._on_cleanup

    @property
    def on_request_start(self) -> Signal:
        """Callbacks ``async def cb(request)`` run when a request arrives, before routing."""
        return self._on_request_start

    @property
    def on_request_match(self) -> Signal:
        """Callbacks ``async def cb(request, match_info)`` run once the route is known."""
        return self._on_request_match

    @property
    def on_exception(self) -> Signal:
        """Exception handlers that may turn an error into a response.

        ``async def h(request, exc)`` gets every exception a handler raised and returns a
        response, or ``None`` to pass. ``async def h(request)`` (the short form) is called
        on errors too, and its response is used only when its status equals the error's
        status: a JSON 404 handler answers 404s and leaves 405s alone.
        """
        return self._on_exception

    def signal(self, name: str) -> Signal:
        """The named signal list ``app.signal(web.Signals.PRE_SHUTDOWN)`` (see :class:`Signals`)."""
        try:
            return self._named_signals[Signals(name)]
        except ValueError:
            raise KeyError(f"unknown signal {name!r}; known: pre_shutdown, post_shutdown") from None

    @property
    def cleanup_ctx(self) -> CleanupContext:
        return self._cleanup_ctx

    # composition -----------------------------------------------------------------------------

    def add_routes(self, routes: Any) -> list[Any]:
        return self._router.add_routes(routes)

    def add_subapp(self, prefix: str, subapp: Application) -> Any:
        from surge.server.routing.subapps import add_subapp

        return add_subapp(self, prefix, subapp)

    def add_domain(self, domain: str, subapp: Application) -> Any:
        from surge.server.routing.subapps import add_domain

        return add_domain(self, domain, subapp)

    def _mount(self, subapp: Application) -> None:
        """Adopt a sub-app: its startup/shutdown/cleanup signals run with this app's."""
        for name in ("on_startup", "on_shutdown", "on_cleanup"):
            getattr(self, name).append(_SubappSignal(getattr(subapp, name), subapp))
        subapp._mounted = True
        self._subapps.append(subapp)
        subapp.pre_freeze()

    def pre_freeze(self) -> None:
        if self._pre_frozen:
            return
        from surge.server.routing.routedef import module_routes

        decorated = module_routes(self._module)
        if decorated:
            self._router.add_routes(decorated)
        self._pre_frozen = True
        self._middlewares.freeze()
        self._router.freeze()
        for signal in (
            self._on_response_prepare,
            self._on_startup,
            self._on_shutdown,
            self._on_cleanup,
            self._on_request_start,
            self._on_request_match,
            self._on_exception,
            *self._named_signals.values(),
        ):
            signal.freeze()
        for subapp in self._subapps:
            subapp.pre_freeze()

    def freeze(self) -> None:
        if self._frozen:
            return
        self.pre_freeze()
        self._frozen = True
        self._simple = not self._middlewares and not self._on_response_prepare
        self._hooked = bool(self._on_request_start or self._on_request_match or self._on_exception)
        for subapp in self._subapps:
            subapp.freeze()

    # lifecycle -------------------------------------------------------------------------------

    async def startup(self) -> None:
        await self.on_startup.send(self)

    async def shutdown(self) -> None:
        pre = self._named_signals[Signals.PRE_SHUTDOWN]
        if pre:
            services = MappingProxyType(self._state)
            for handler in pre:
                await (handler(self, services) if positional_arity(handler) >= 2 else handler(self))
        await self.on_shutdown.send(self)

    async def cleanup(self) -> None:
        try:
            await self.on_cleanup.send(self)
        finally:
            await self._named_signals[Signals.POST_SHUTDOWN].send(self)

    def _make_handler(
        self, *, loop: Any = None, access_log_class: Any = None, **kwargs: Any
    ) -> Any:
        from surge.server.server import Server

        self.freeze()
        if access_log_class is not None:
            kwargs["access_log_class"] = access_log_class
        if self._client_max_cache_size is not None:
            kwargs.setdefault("max_idle_connections", self._client_max_cache_size)
        factory = self._make_request if self._compress else self._make_uncompressed_request
        if self._client_max_fields != BaseRequest._client_max_fields:
            factory = functools.partial(_with_max_fields, factory, self._client_max_fields)
        return Server(self._handle, request_factory=factory, **kwargs)

    def _make_request(self, head: Any, payload: Any, protocol: Any) -> Request:
        # Once per request: the attribute stores of Request.__init__ without its call and
        # its optional arguments (the other defaults live on the class).
        request = _new_request(Request)
        request._head = head
        request._payload = payload
        request._protocol = protocol
        request._writer = protocol
        request._loop = protocol._loop
        request._client_max_size = self._client_max_size
        request._state = {}
        request._prepare_hooks = ()  # as the class default, but an instance value reads faster
        return request

    def _make_uncompressed_request(self, head: Any, payload: Any, protocol: Any) -> Request:
        # Application(compress=False): responses are compressed only when a handler asks.
        request = self._make_request(head, payload, protocol)
        request._auto_compress = False
        return request

    # handling --------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Awaitable[StreamResponse]:
        """Route ``request``; return the awaitable that produces its response.

        Without request hooks, exception handlers or an ``Expect`` header that awaitable is
        the handler's own coroutine: routing adds no coroutine of its own per request.
        """
        if self._hooked:
            return self._handle_hooked(request)
        head = request._head
        target = head.target
        if "%" in target or not target.startswith("/"):
            path = request.path
        else:
            # request.path's shortcut for a target with nothing to decode, cached as it is.
            path = request.path = target.partition("?")[0]
        match_info = self._router.resolve_path(head.method, path, request)
        if match_info._current_app is None and self._simple:
            # _bind's common case, inlined: a route of this app, which has no middleware
            # or prepare hooks.
            match_info._apps = self._apps_tuple
            match_info._current_app = self
            match_info._frozen = True
            request.match_info = match_info
            handler = match_info._route._handler
        else:
            handler = self._bind(request, match_info)
        if head.expect:
            return self._expect_then(request, handler)
        return handler(request)

    def _match(self, request: Request) -> Handler:
        """Resolve the route, record ``request.match_info``; the handler to call (with the
        middleware chain around it)."""
        return self._bind(
            request, self._router.resolve_path(request._head.method, request.path, request)
        )

    def _bind(self, request: Request, match_info: UrlMappingMatchInfo) -> Handler:
        """Record ``match_info`` on ``request``; the handler to call (with the middleware
        chain around it)."""
        if match_info._current_app is None and self._simple:
            match_info._apps = self._apps_tuple
            match_info._current_app = self
            match_info._frozen = True
            request.match_info = match_info
            return match_info._route._handler
        match_info.add_app(self)
        match_info.freeze()
        request.match_info = match_info
        request._prepare_hooks = match_info._prepare_signals
        return self._chain_for(match_info)

    async def _expect_then(self, request: Request, handler: Handler) -> StreamResponse:
        expect_response = await request.match_info.expect_handler(request)
        if expect_response is not None:
            return cast("StreamResponse", expect_response)
        return await handler(request)

    async def _handle_hooked(self, request: Request) -> StreamResponse:
        """The full path: request hooks, Expect, and ``on_exception`` handlers."""
        for hook in self._on_request_start:
            await hook(request)
        handler = self._match(request)
        match_info = request.match_info
        for hook in self._on_request_match:
            await hook(request, match_info)
        try:
            if request._head.expect:
                return await self._expect_then(request, handler)
            return await handler(request)
        except Exception as exc:
            if self._on_exception:
                replacement = await self._handle_exception(request, exc)
                if replacement is not None:
                    return replacement
            raise

    def _chain_for(self, match_info: UrlMappingMatchInfo) -> Handler:
        apps = match_info.apps
        key = (match_info.route, apps)
        chain = self._chains.get(key)
        if chain is None:
            chain = match_info.handler
            middlewares = [mw for app in apps for mw in app._middlewares]
            for mw in reversed(middlewares):
                chain = _Next(mw, chain)
            if len(self._chains) < 10_000:
                self._chains[key] = chain
        return chain

    async def _handle_exception(self, request: Request, exc: Exception) -> StreamResponse | None:
        status = exc.status if isinstance(exc, HTTPException) else 500
        for hook in self._on_exception:
            arity = self._exception_arity.get(hook)
            if arity is None:
                arity = self._exception_arity[hook] = positional_arity(hook)
            if arity >= 2:
                response = await hook(request, exc)
                if response is not None:
                    return cast("StreamResponse", response)
            else:
                response = await hook(request)
                if response is not None and response.status == status:
                    return cast("StreamResponse", response)
        return None
