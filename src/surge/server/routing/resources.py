"""Resources (a path pattern) and routes (a method + handler on a resource).

``PlainResource`` matches one exact path, ``DynamicResource`` a compiled pattern with
``{name}``, ``{name:regex}`` and typed ``{name:int}`` parameters (``{id:int=1}`` makes the last
segment optional). Matching is synchronous; the async ``resolve`` is aiohttp's public form.
"""

from __future__ import annotations

import abc
import inspect
import re
from collections.abc import Awaitable, Callable, Iterator, Sized
from typing import TYPE_CHECKING, Any

from yarl import URL

from surge.server.routing.convertors import CONVERTORS, Convertor
from surge.server.routing.match import UrlMappingMatchInfo, match_info

if TYPE_CHECKING:
    from surge.server.exceptions import HTTPException
    from surge.server.request import Request

__all__ = [
    "AbstractResource",
    "AbstractRoute",
    "DynamicResource",
    "PlainResource",
    "Resource",
    "ResourceRoute",
    "SystemRoute",
]

Handler = Callable[..., Awaitable[Any]]
_HTTP_METHOD_RE = re.compile(r"^[0-9A-Za-z!#\$%&'\*\+\-\.\^_`\|~]+$")
_PARAM_RE = re.compile(r"\{(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?::(?P<spec>(?:\{[^{}]*\}|[^{}])*))?\}")
METH_ANY = "*"
# What ``_resolve`` returns on a miss (callers never mutate its set).
_NO_MATCH: tuple[None, set[str]] = (None, set())


def _quote_path(value: str) -> str:
    return URL.build(path=value, encoded=False).raw_path


class AbstractResource(Sized, abc.ABC):
    """A node of the router: something that matches paths and holds routes."""

    _index = 0  # registration order, set by the router

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name

    @property
    def name(self) -> str | None:
        return self._name

    @property
    @abc.abstractmethod
    def canonical(self) -> str: ...

    @abc.abstractmethod
    def url_for(self, **kwargs: Any) -> URL: ...

    @abc.abstractmethod
    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]: ...

    @abc.abstractmethod
    def add_prefix(self, prefix: str) -> None: ...

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]: ...

    def freeze(self) -> None:
        pass

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(())

    @abc.abstractmethod
    def raw_match(self, path: str) -> bool: ...

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        """Synchronous resolution on the decoded path; ``(None, set())`` when it does not match."""
        raise NotImplementedError


class AbstractRoute(abc.ABC):
    """A handler bound to a method on a resource."""

    def __init__(
        self,
        method: str,
        handler: Any,
        *,
        expect_handler: Handler | None = None,
        resource: AbstractResource | None = None,
    ) -> None:
        if expect_handler is None:
            expect_handler = _default_expect_handler
        if not inspect.iscoroutinefunction(expect_handler):
            raise TypeError(f"Coroutine is expected, got {expect_handler!r}")
        method = method.upper()
        if not _HTTP_METHOD_RE.match(method):
            raise ValueError(f"{method} is not allowed HTTP method")
        self._method = method
        self._handler = _prepare_handler(handler)
        self._expect_handler = expect_handler
        self._resource = resource

    @property
    def method(self) -> str:
        return self._method

    @property
    def handler(self) -> Handler:
        return self._handler

    @property
    @abc.abstractmethod
    def name(self) -> str | None: ...

    @property
    def resource(self) -> AbstractResource | None:
        return self._resource

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL: ...

    async def handle_expect_header(self, request: Request) -> Any:
        return await self._expect_handler(request)


async def _default_expect_handler(request: Request) -> None:
    """Check ``Expect``: 100-continue is accepted, anything else gets 417.

    The ``100 Continue`` itself goes out when the handler starts reading the body, so a
    handler that answers without reading (401, 413, ...) never invites the body.
    """
    expect = request.headers.get("Expect", "")
    if request.version >= (1, 1):
        if expect.lower() == "100-continue":
            length = request.content_length
            limit = request.client_max_size
            if limit and length is not None and length > limit:
                from surge.server.exceptions import HTTPRequestEntityTooLarge

                raise HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
        else:
            from surge.server.exceptions import HTTPExpectationFailed

            raise HTTPExpectationFailed(text=f"Unknown Expect: {expect}")


def _prepare_handler(handler: Any) -> Handler:
    """Accept coroutine functions, class views, and handlers with injected parameters."""
    from surge.server.routing.injection import wrap_handler

    return wrap_handler(handler)


class ResourceRoute(AbstractRoute):
    """A route on a :class:`Resource`."""

    def __repr__(self) -> str:
        return f"<ResourceRoute [{self.method}] {self._resource} -> {self.handler!r}>"

    @property
    def name(self) -> str | None:
        return self._resource.name if self._resource is not None else None

    def url_for(self, *args: str, **kwargs: str) -> URL:
        assert self._resource is not None
        return self._resource.url_for(*args, **kwargs)

    def get_info(self) -> dict[str, Any]:
        assert self._resource is not None
        return self._resource.get_info()


class SystemRoute(AbstractRoute):
    """The route of an unmatched request: its handler raises the 404/405."""

    def __init__(self, http_exception: HTTPException) -> None:
        super().__init__(METH_ANY, self._handle)
        self._http_exception = http_exception

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not allowed for SystemRoute")

    @property
    def name(self) -> str | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return {"http_exception": self._http_exception}

    async def _handle(self, request: Request) -> Any:
        raise self._http_exception

    @property
    def status(self) -> int:
        return self._http_exception.status

    @property
    def reason(self) -> str:
        return self._http_exception.reason

    def __repr__(self) -> str:
        return f"<SystemRoute {self.status}: {self.reason}>"


class Resource(AbstractResource):
    """A resource with routes per method (``resource.add_get(handler)``...)."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._routes: dict[str, ResourceRoute] = {}
        self._any_route: ResourceRoute | None = None
        self._allowed: set[str] = set()

    def add_route(
        self, method: str, handler: Any, *, expect_handler: Handler | None = None
    ) -> ResourceRoute:
        method = method.upper()
        if method in self._routes or (method == METH_ANY and self._any_route is not None):
            raise RuntimeError(
                f"Added route will never be executed, method {method} is already registered"
            )
        route = ResourceRoute(method, handler, expect_handler=expect_handler, resource=self)
        self.register_route(route)
        return route

    def register_route(self, route: ResourceRoute) -> None:
        assert isinstance(route, ResourceRoute), (
            f"Instance of Route class is required, got {route!r}"
        )
        if route.method == METH_ANY:
            self._any_route = route
        else:
            self._routes[route.method] = route
        self._allowed.add(route.method)

    # aiohttp's convenience forms
    def add_get(self, handler: Any, *, allow_head: bool = True, **kw: Any) -> ResourceRoute:
        route = self.add_route("GET", handler, **kw)
        if allow_head and "HEAD" not in self._routes:
            self.add_route("HEAD", handler, **kw)
        return route

    def add_head(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route("HEAD", handler, **kw)

    def add_post(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route("POST", handler, **kw)

    def add_put(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route("PUT", handler, **kw)

    def add_patch(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route("PATCH", handler, **kw)

    def add_delete(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route("DELETE", handler, **kw)

    def add_options(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route("OPTIONS", handler, **kw)

    def add_view(self, handler: Any, **kw: Any) -> ResourceRoute:
        return self.add_route(METH_ANY, handler, **kw)

    def _route_for(self, method: str) -> ResourceRoute | None:
        route = self._routes.get(method)
        return route if route is not None else self._any_route

    def _match(self, path: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        params = self._match(path)
        if params is None:
            return _NO_MATCH
        route = self._routes.get(method) or self._any_route
        if route is None:
            return None, self._allowed
        return match_info(params, route), self._allowed

    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        return self._resolve(request.method, request.path)

    def __len__(self) -> int:
        return len(self._routes) + (self._any_route is not None)

    def __iter__(self) -> Iterator[ResourceRoute]:
        yield from self._routes.values()
        if self._any_route is not None:
            yield self._any_route


class PlainResource(Resource):
    """A resource for one exact path, found by dict lookup."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        assert not path or path.startswith("/")
        self._path = path

    @property
    def canonical(self) -> str:
        return self._path

    def add_prefix(self, prefix: str) -> None:
        assert prefix.startswith("/") and not prefix.endswith("/")
        self._path = prefix + self._path

    def raw_match(self, path: str) -> bool:
        return self._path == path

    def _match(self, path: str) -> dict[str, Any] | None:
        return {} if self._path == path else None

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        # Resource._resolve for a path without parameters: no _match call, no params dict.
        if self._path != path:
            return _NO_MATCH
        route = self._routes.get(method) or self._any_route
        if route is None:
            return None, self._allowed
        info = _new_match_info(UrlMappingMatchInfo)  # match_info(None, route), inlined
        info._route = route
        return info, self._allowed

    def get_info(self) -> dict[str, Any]:
        return {"path": self._path}

    def url_for(self, **kwargs: Any) -> URL:
        return URL.build(path=self._path, encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<PlainResource {name} {self._path}>"


class DynamicResource(Resource):
    """A resource whose path has ``{parameters}``, matched by one compiled regex."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._orig_path = path
        self._compile(path)

    def _compile(self, path: str) -> None:
        pattern = ""
        formatter = ""
        convertors: dict[str, Convertor] = {}
        defaults: dict[str, Any] = {}
        pos = 0
        matches = list(_PARAM_RE.finditer(path))
        for i, match in enumerate(matches):
            literal = path[pos : match.start()]
            pattern += re.escape(literal)
            formatter += literal
            name, spec = match.group("name"), match.group("spec")
            default: str | None = None
            if spec is not None and "=" in spec and not spec.startswith("{"):
                spec, _, default = spec.rpartition("=")
                if not spec:
                    spec = "str"
            if spec is None:
                regex, conv = CONVERTORS["str"].regex, None
            elif spec in CONVERTORS:
                conv = CONVERTORS[spec]
                regex = conv.regex
            else:
                regex, conv = spec, None
            group = f"(?P<{name}>{regex})"
            if default is not None:
                last = i == len(matches) - 1 and match.end() == len(path)
                if not (last and pattern.endswith("/")):
                    raise ValueError(
                        f"A default value is only allowed on the last segment: {path!r}"
                    )
                pattern = pattern[:-1] + f"(?:/{group})?/?"
                defaults[name] = conv.convert(default) if conv is not None else default
            else:
                pattern += group
            if conv is not None and spec != "str":
                convertors[name] = conv
            formatter += "{" + name + "}"
            pos = match.end()
        if "{" in path[pos:] or "}" in path[pos:]:
            raise ValueError(f"Bad pattern '{path}': unbalanced braces")
        pattern += re.escape(path[pos:])
        try:
            self._pattern = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"Bad pattern '{pattern}': {exc}") from None
        self._formatter = formatter
        self._convertors = convertors
        self._defaults = defaults
        # "/prefix/{name}" with the default pattern: its one parameter is the last segment,
        # matched without the regex (see _resolve).
        self._tail: tuple[str, str] | None = None
        if (
            len(matches) == 1
            and matches[0].end() == len(path)
            and not convertors
            and not defaults
            and matches[0].group("spec") in (None, "str")
            and path[: matches[0].start()].endswith("/")
        ):
            self._tail = (path[: matches[0].start()], matches[0].group("name"))

    @property
    def canonical(self) -> str:
        return self._formatter

    def add_prefix(self, prefix: str) -> None:
        assert prefix.startswith("/") and not prefix.endswith("/")
        self._orig_path = prefix + self._orig_path
        self._compile(self._orig_path)

    def raw_match(self, path: str) -> bool:
        return self._orig_path == path

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        # Resource._resolve with the match of a parameter-only route (no converters or
        # defaults) inlined: one regex match, the groups straight into the match info.
        tail = self._tail
        if tail is not None:
            # What the pattern "prefix" + "[^{}/]+" matches, without the regex.
            prefix, name = tail
            if not path.startswith(prefix):
                return _NO_MATCH
            value = path[len(prefix) :]
            if not value or "/" in value or "{" in value or "}" in value:
                return _NO_MATCH
            route = self._routes.get(method) or self._any_route
            if route is None:
                return None, self._allowed
            info = _new_match_info(UrlMappingMatchInfo)  # match_info({name: value}, route)
            info[name] = value
            info._route = route
            return info, self._allowed
        if self._convertors or self._defaults:
            return super()._resolve(method, path)
        match = self._pattern.fullmatch(path)
        if match is None:
            return _NO_MATCH
        route = self._routes.get(method) or self._any_route
        if route is None:
            return None, self._allowed
        info = _new_match_info(UrlMappingMatchInfo)  # match_info(groups, route), inlined
        info.update(match.groupdict())
        info._route = route
        return info, self._allowed

    def _match(self, path: str) -> dict[str, Any] | None:
        match = self._pattern.fullmatch(path)
        if match is None:
            return None
        params = match.groupdict()
        if self._convertors or self._defaults:
            for key, value in params.items():
                if value is None:
                    params[key] = self._defaults.get(key)
                elif key in self._convertors:
                    try:
                        params[key] = self._convertors[key].convert(value)
                    except ValueError:
                        return None
        return params

    def get_info(self) -> dict[str, Any]:
        return {"formatter": self._formatter, "pattern": self._pattern}

    def url_for(self, **parts: Any) -> URL:
        """The URL with ``parts`` filled in (a defaulted parameter may be left out)."""
        if self._defaults:
            parts = {**self._defaults, **parts}
        values = {}
        for key, value in parts.items():
            conv = self._convertors.get(key)
            text = conv.to_string(value) if conv is not None else str(value)
            values[key] = (
                _quote_path(text).replace("/", "%2F")
                if key not in self._convertors or self._convertors[key] is not CONVERTORS["path"]
                else _quote_path(text)
            )
        return URL.build(path=self._formatter.format_map(values), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<DynamicResource {name} {self._formatter}>"


_new_match_info = dict.__new__
