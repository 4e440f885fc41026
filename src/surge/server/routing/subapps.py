"""Sub-applications mounted under a path prefix (``add_subapp``) or a Host (``add_domain``).

A mounted app's resources get the prefix baked into their paths, so the sub-app's own router
resolves the full request path with its usual dict lookup, and ``url_for`` includes the prefix.
The prefix resource claims every path under it: a path the sub-app does not know is its 404.
A matched request carries both apps in ``match_info.apps`` (root first); ``request.app`` is the
sub-app, its middlewares run inside the root's, and ``request.config_dict`` chains their state.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from yarl import URL

from surge.server.routing.match import UrlMappingMatchInfo
from surge.server.routing.resources import AbstractResource

if TYPE_CHECKING:
    from surge.server.app import Application
    from surge.server.request import Request

__all__ = [
    "Domain",
    "MaskDomain",
    "MatchedSubAppResource",
    "PrefixedSubAppResource",
    "add_domain",
    "add_subapp",
]

_LABEL_RE = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)")
_MASK_LABEL_RE = re.compile(r"(?!-)[a-z\d*-]{1,63}(?<!-)")


def _allowed_of(match: UrlMappingMatchInfo) -> set[str]:
    exc = match.http_exception
    allowed = getattr(exc, "allowed_methods", None)
    return set(allowed) if allowed else set()


class PrefixedSubAppResource(AbstractResource):
    """The resource ``app.add_subapp('/admin', admin)`` registers in the parent router."""

    def __init__(self, prefix: str, app: Application) -> None:
        super().__init__()
        self._prefix = prefix
        self._prefix_slash = prefix + "/"
        self._app = app
        for resource in app.router.resources():
            resource.add_prefix(prefix)
        app.router._invalidate()

    @property
    def app(self) -> Application:
        return self._app

    @property
    def canonical(self) -> str:
        return self._prefix

    def add_prefix(self, prefix: str) -> None:
        assert prefix.startswith("/") and not prefix.endswith("/")
        self._prefix = prefix + self._prefix
        self._prefix_slash = self._prefix + "/"
        for resource in self._app.router.resources():
            resource.add_prefix(prefix)
        self._app.router._invalidate()

    def url_for(self, **kwargs: Any) -> URL:
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "prefix": self._prefix}

    def raw_match(self, path: str) -> bool:
        return False

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        if path != self._prefix and not path.startswith(self._prefix_slash):
            return None, set()
        match = self._app.router.resolve_path(method, path)
        match.add_app(self._app)
        return match, _allowed_of(match)

    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        return self._resolve(request.method, request.path)

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Any:
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<PrefixedSubAppResource {self._prefix} -> {self._app!r}>"


def _split_port(host: str) -> tuple[str, str]:
    if host.startswith("["):  # an IPv6 literal: [::1]:8080
        end = host.find("]")
        rest = host[end + 1 :]
        return host[: end + 1], rest[1:] if rest.startswith(":") else ""
    name, _, port = host.partition(":")
    return name, port


class Domain:
    """A Host rule: ``example.com`` (any port) or ``example.com:8080`` (that port only).

    The name is lower-cased, a trailing dot dropped and IDNA-encoded (``пример.рф`` matches
    ``Host: xn--e1afmkfd.xn--p1ai``); port 80 in the rule means any port, as aiohttp does.
    """

    _label_re = _LABEL_RE

    def __init__(self, domain: str) -> None:
        self._domain, self._port = self._validate(domain)

    def _validate(self, domain: Any) -> tuple[str, str]:
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        domain = domain.rstrip(".").lower()
        if not domain:
            raise ValueError("Domain cannot be empty")
        if "://" in domain:
            raise ValueError("Scheme not supported")
        try:
            url = URL("http://" + domain)
        except ValueError:
            raise ValueError("Domain not valid") from None
        host = url.raw_host
        if not host or url.raw_path not in ("", "/") or url.query_string or url.fragment:
            raise ValueError("Domain not valid")
        if not all(self._label_re.fullmatch(label) for label in host.split(".")):
            raise ValueError("Domain not valid")
        port = "" if url.explicit_port in (None, 80) else str(url.explicit_port)
        return host, port

    @property
    def canonical(self) -> str:
        return f"{self._domain}:{self._port}" if self._port else self._domain

    def match_domain(self, host: str) -> bool:
        name, port = _split_port(host.lower())
        if self._port and port != self._port:
            return False
        return name == self._domain

    def get_info(self) -> dict[str, Any]:
        return {"domain": self.canonical}

    def __repr__(self) -> str:
        return f"<Domain {self.canonical}>"


class MaskDomain(Domain):
    """A wildcard Host rule: ``*.example.com`` (``*`` spans any characters but ``:``)."""

    _label_re = _MASK_LABEL_RE

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        pattern = re.escape(self._domain).replace(r"\*", "[^:]*")
        self._mask = re.compile(pattern, re.IGNORECASE)

    def match_domain(self, host: str) -> bool:
        name, port = _split_port(host)
        if self._port and port != self._port:
            return False
        return self._mask.fullmatch(name) is not None


class MatchedSubAppResource(AbstractResource):
    """The resource ``app.add_domain('api.example.com', api)`` registers; tried first."""

    _is_domain = True

    def __init__(self, rule: Domain, app: Application) -> None:
        super().__init__()
        self._rule = rule
        self._app = app

    @property
    def app(self) -> Application:
        return self._app

    @property
    def canonical(self) -> str:
        return self._rule.canonical

    def add_prefix(self, prefix: str) -> None:
        raise RuntimeError("A domain sub-application cannot be mounted under a prefix")

    def url_for(self, **kwargs: Any) -> URL:
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "rule": self._rule}

    def raw_match(self, path: str) -> bool:
        return False

    def _resolve_host(
        self, method: str, path: str, host: str, request: Request | None
    ) -> UrlMappingMatchInfo | None:
        if not self._rule.match_domain(host):
            return None
        match = self._app.router.resolve_path(method, path, request)
        match.add_app(self._app)
        return match

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        return None, set()  # needs the Host header: the router calls _resolve_host

    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        host = request.headers.get("Host")
        if not host:
            return None, set()
        match = self._resolve_host(request.method, request.path, host, request)
        if match is None:
            return None, set()
        return match, _allowed_of(match)

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Any:
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<MatchedSubAppResource -> {self._app!r}>"


def _check_mountable(parent: Application, subapp: Application) -> None:
    if parent.frozen:
        raise RuntimeError("Cannot add sub application to frozen application")
    if subapp.frozen:
        raise RuntimeError("Cannot add frozen application")
    if subapp is parent:
        raise RuntimeError("An application cannot be mounted in itself")
    if subapp._mounted:
        # aiohttp would prefix the sub-app's routes a second time; refuse instead.
        raise RuntimeError(f"{subapp!r} is already mounted as a sub-application")


def add_subapp(parent: Application, prefix: str, subapp: Application) -> PrefixedSubAppResource:
    """``parent.add_subapp(prefix, subapp)``: mount ``subapp`` under ``prefix``."""
    if not isinstance(prefix, str):
        raise TypeError("Prefix must be str")
    prefix = prefix.rstrip("/")
    if not prefix:
        raise ValueError("Prefix cannot be empty")
    if not prefix.startswith("/"):
        raise ValueError("Prefix must start with '/'")
    if "{" in prefix or "}" in prefix:
        raise ValueError("Prefix cannot contain path parameters")
    _check_mountable(parent, subapp)
    resource = PrefixedSubAppResource(prefix, subapp)
    parent.router.register_resource(resource)
    parent._mount(subapp)
    return resource


def add_domain(parent: Application, domain: str, subapp: Application) -> MatchedSubAppResource:
    """``parent.add_domain('*.example.com', subapp)``: serve ``subapp`` for matching hosts."""
    if not isinstance(domain, str):
        raise TypeError("Domain must be str")
    rule = MaskDomain(domain) if "*" in domain else Domain(domain)
    _check_mountable(parent, subapp)
    resource = MatchedSubAppResource(rule, subapp)
    parent.router.register_resource(resource)
    parent._mount(subapp)
    return resource
