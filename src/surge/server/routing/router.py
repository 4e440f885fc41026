"""UrlDispatcher: ``app.router``. Finds the route for a method and decoded path.

Resources are indexed by their literal path prefix (a plain resource by its whole path, a
dynamic one by the path before its first parameter's segment, a sub-application by its
prefix). A request looks up its full path, then each shorter prefix down to ``/``, so a plain
path is one dict lookup and no request scans every resource. Within one prefix the first
registered resource wins, and 405 is answered only when no resource takes the method. This is
aiohttp 3.9+'s order: a more specific literal prefix wins over an earlier, more general
pattern (``/users`` beats an earlier ``/{name}``). Domain sub-applications are tried first.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from surge.server.routing.match import MatchInfoError, UrlMappingMatchInfo
from surge.server.routing.resources import (
    METH_ANY,
    AbstractResource,
    AbstractRoute,
    DynamicResource,
    PlainResource,
    Resource,
    ResourceRoute,
)

if TYPE_CHECKING:
    from surge.server.request import Request

__all__ = ["UrlDispatcher"]

_H = TypeVar("_H", bound=Callable[..., Any])
_HAS_PARAM = re.compile(r"\{[^{}]*\}")
_NAME_SPLIT_RE = re.compile(r"[.:-]")


def index_key(resource: AbstractResource) -> str:
    """The literal prefix a resource is indexed under (see the module docstring)."""
    key = getattr(resource, "_index_key", None)
    if isinstance(key, str):
        return key
    canonical = resource.canonical
    brace = canonical.find("{")
    if brace < 0:
        return canonical
    return canonical[: canonical.rfind("/", 0, brace)] or "/"


class UrlDispatcher(Mapping[str, AbstractResource]):
    """The router: holds resources in order and resolves requests to routes.

    It is also a mapping of resource names (``router['user_detail'].url_for(user_id=42)``),
    and ``router.get('/path')`` / ``router.post('/path')`` are route decorators (a name can
    never start with ``/``, so ``router.get('name')`` stays a lookup).
    """

    def __init__(self) -> None:
        self._resources: list[AbstractResource] = []
        self._named: dict[str, AbstractResource] = {}
        self._domains: list[Any] = []  # MatchedSubAppResource, tried before the index
        self._index: dict[str, tuple[AbstractResource, ...]] | None = None  # built lazily
        self._unindexed: set[AbstractResource] = set()  # taken out by unindex_resource()
        self._prefix_depth = 0  # segments in the deepest index key, set with the index
        self._frozen = False

    # building ------------------------------------------------------------------------------

    def register_resource(self, resource: AbstractResource) -> None:
        assert isinstance(resource, AbstractResource), (
            f"Instance of AbstractResource class is required, got {resource!r}"
        )
        if self._frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")
        name = resource.name
        if name is not None:
            if not all(
                part.isidentifier() and not keyword.iskeyword(part)
                for part in _NAME_SPLIT_RE.split(name)
            ):
                raise ValueError(
                    f"Incorrect route name {name!r}, the name should be a sequence of python "
                    "identifiers separated by dash, dot or column"
                )
            if name in self._named:
                raise ValueError(f"Duplicate {name!r}, already handled by {self._named[name]!r}")
            self._named[name] = resource
        resource._index = len(self._resources)
        self._resources.append(resource)
        if getattr(resource, "_is_domain", False):
            self._domains.append(resource)
        self._index = None

    def _invalidate(self) -> None:
        """Rebuild the index on the next resolve (a resource's path changed: a new prefix)."""
        self._index = None

    def index_resource(self, resource: AbstractResource) -> None:
        """Make a registered resource resolvable again under its (possibly new) path."""
        self._unindexed.discard(resource)
        self._index = None

    def unindex_resource(self, resource: AbstractResource) -> None:
        """Stop resolving to ``resource`` (it stays in ``resources()``); aiohttp code calls
        this before changing a resource's path, then :meth:`index_resource`."""
        self._unindexed.add(resource)
        self._index = None

    def post_init(self, app: Any) -> None:
        """Called with the application that owns the router; this router needs nothing."""

    NAME_SPLIT_RE = _NAME_SPLIT_RE
    """What separates the parts of a route name (each must be an identifier)."""

    def _build_index(self) -> dict[str, tuple[AbstractResource, ...]]:
        buckets: dict[str, list[AbstractResource]] = {}
        unindexed = self._unindexed
        for resource in self._resources:
            if unindexed and resource in unindexed:
                continue
            if not getattr(resource, "_is_domain", False):
                buckets.setdefault(index_key(resource), []).append(resource)
        self._index = {key: tuple(found) for key, found in buckets.items()}
        self._prefix_depth = max((key.count("/") for key in self._index if key != "/"), default=0)
        return self._index

    def add_resource(self, path: str, *, name: str | None = None) -> Resource:
        """Get or create the resource for ``path`` (``{param}`` makes it dynamic)."""
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        if self._frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")
        # Reuse the last resource when it has the same path and name (aiohttp's rule).
        if self._resources:
            last = self._resources[-1]
            if isinstance(last, Resource) and last.name == name and last.raw_match(path):
                return last
        resource: Resource
        if not _HAS_PARAM.search(path):
            resource = PlainResource(path, name=name)
        else:
            resource = DynamicResource(path, name=name)
        self.register_resource(resource)
        return resource

    def add_route(
        self,
        method: str,
        path: str,
        handler: Any,
        *,
        name: str | None = None,
        expect_handler: Any = None,
    ) -> ResourceRoute:
        resource = self.add_resource(path, name=name)
        return resource.add_route(method, handler, expect_handler=expect_handler)

    def add_head(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route("HEAD", path, handler, **kwargs)

    def add_options(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route("OPTIONS", path, handler, **kwargs)

    def add_get(
        self,
        path: str,
        handler: Any,
        *,
        name: str | None = None,
        allow_head: bool = True,
        **kwargs: Any,
    ) -> ResourceRoute:
        """Route GET (and HEAD, unless ``allow_head=False``) on ``path`` to ``handler``."""
        resource = self.add_resource(path, name=name)
        if allow_head:
            resource.add_route("HEAD", handler, **kwargs)
        return resource.add_route("GET", handler, **kwargs)

    def add_post(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route("POST", path, handler, **kwargs)

    def add_put(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route("PUT", path, handler, **kwargs)

    def add_patch(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route("PATCH", path, handler, **kwargs)

    def add_delete(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route("DELETE", path, handler, **kwargs)

    def add_view(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        """Route every method on ``path`` to a class view."""
        return self.add_route(METH_ANY, path, handler, **kwargs)

    def add_static(self, prefix: str, path: Any, **kwargs: Any) -> AbstractResource:
        """Serve the files under directory ``path`` at ``prefix`` (see ``StaticResource``)."""
        from surge.server.routing.static import StaticResource

        assert prefix.startswith("/")
        resource = StaticResource(prefix.rstrip("/"), path, **kwargs)
        self.register_resource(resource)
        return resource

    def add_routes(self, routes: Any) -> list[AbstractRoute]:
        """Register route definitions (a ``RouteTableDef`` or ``[web.get(...), ...]``)."""
        registered: list[AbstractRoute] = []
        for route_def in routes:
            registered.extend(route_def.register(self))
        return registered

    # decorators ----------------------------------------------------------------------------

    def route(self, method: str, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        """``@app.router.route('GET', '/path')``: register the decorated handler."""

        def decorator(handler: _H) -> _H:
            self.add_route(method, path, handler, **kwargs)
            return handler

        return decorator

    def get(self, path: str, default: Any = None, **kwargs: Any) -> Any:
        """``@router.get('/path')`` registers a GET handler; ``router.get('name')`` looks up."""
        if isinstance(path, str) and path.startswith("/"):

            def decorator(handler: _H) -> _H:
                self.add_get(path, handler, **kwargs)
                return handler

            return decorator
        return self._named.get(path, default)

    def post(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route("HEAD", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route("OPTIONS", path, **kwargs)

    def view(self, path: str, **kwargs: Any) -> Callable[[_H], _H]:
        return self.route(METH_ANY, path, **kwargs)

    # resolving -----------------------------------------------------------------------------

    def resolve_path(
        self, method: str, path: str, request: Request | None = None
    ) -> UrlMappingMatchInfo:
        """Synchronous resolution: a match, or a :class:`MatchInfoError` (404/405).

        ``request`` is needed only to match domain sub-applications on the ``Host`` header.
        """
        if self._domains and request is not None:
            match = self._resolve_domain(method, path, request)
            if match is not None:
                return match
        index = self._index
        if index is None:
            index = self._build_index()
        methods: set[str] | None = None
        # The exact path (a plain route: one lookup), then the prefixes that may hold
        # resources, longest first: those no deeper than the deepest indexed prefix (so a miss
        # on a long path with many slashes stays linear), then "/".
        key = path
        ends: list[int] | None = None
        while True:
            candidates = index.get(key)
            if candidates is not None:
                for resource in candidates:
                    match, allowed = resource._resolve(method, path)
                    if match is not None:
                        return match
                    if allowed:
                        methods = set(allowed) if methods is None else methods | allowed
            if ends is None:
                # The usual dynamic route, "/prefix/{name}", sits under the path's parent: try
                # that before finding every slash. Only a match returns here; anything else
                # is seen again by the walk, which reaches that key in its turn.
                parent = index.get(path.rpartition("/")[0])
                if parent is not None:
                    for resource in parent:
                        match = resource._resolve(method, path)[0]
                        if match is not None:
                            return match
                ends = []
                depth = self._prefix_depth
                end = 0
                while depth:
                    end = path.find("/", end + 1)
                    if end < 0:
                        break
                    ends.append(end)
                    depth -= 1
            if ends:
                key = path[: ends.pop()]
            elif key != "/" and path != "/":
                key = "/"
            else:
                break
        from surge.server.exceptions import HTTPMethodNotAllowed, HTTPNotFound

        if methods:
            return MatchInfoError(HTTPMethodNotAllowed(method, methods))
        return MatchInfoError(HTTPNotFound())

    def _resolve_domain(
        self, method: str, path: str, request: Request
    ) -> UrlMappingMatchInfo | None:
        host = request.headers.get("Host")
        if not host:
            return None
        for resource in self._domains:
            match = resource._resolve_host(method, path, host, request)
            if match is not None:
                return match  # type: ignore[no-any-return]
        return None

    async def resolve(self, request: Request) -> UrlMappingMatchInfo:
        """aiohttp's form: resolve a request's method and path."""
        return self.resolve_path(request.method, request.path, request)

    # views of the table --------------------------------------------------------------------

    def resources(self) -> list[AbstractResource]:
        return list(self._resources)

    def routes(self) -> list[AbstractRoute]:
        return [route for resource in self._resources for route in resource]

    def named_resources(self) -> Mapping[str, AbstractResource]:
        from types import MappingProxyType

        return MappingProxyType(self._named)

    def __getitem__(self, name: str) -> AbstractResource:
        return self._named[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._named)

    def __len__(self) -> int:
        return len(self._named)

    def __contains__(self, name: object) -> bool:
        return name in self._named

    def freeze(self) -> None:
        self._frozen = True
        for resource in self._resources:
            resource.freeze()
        self._build_index()

    @property
    def frozen(self) -> bool:
        return self._frozen
