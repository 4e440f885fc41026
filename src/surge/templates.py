"""Jinja2 templates for surge apps, with aiohttp_jinja2's API (needs the ``templates`` extra).

    env = templates.setup(app, loader=jinja2.FileSystemLoader("templates"))

    @templates.template("index.html")
    async def index(request):
        return {"title": "My Page"}

Autoescaping is on by default (HTML-escaped output unless a template says otherwise). An
environment made with ``enable_async=True`` is rendered with ``render_async``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

try:
    import jinja2
except ImportError as exc:  # pragma: no cover - depends on the extra
    raise ImportError("surge.templates needs Jinja2: pip install 'surge[templates]'") from exc

from surge.server.app import AppKey, Application
from surge.server.full_response import Response
from surge.server.middlewares import middleware
from surge.server.request import Request
from surge.server.response import StreamResponse

__all__ = [
    "APP_CONTEXT_PROCESSORS_KEY",
    "APP_KEY",
    "REQUEST_CONTEXT_KEY",
    "Environment",
    "context_processors_middleware",
    "get_env",
    "render_string",
    "render_string_async",
    "render_template",
    "render_template_async",
    "request_processor",
    "setup",
    "template",
]

_F = TypeVar("_F", bound=Callable[..., Any])
ContextProcessor = Callable[[Request], Awaitable[Mapping[str, Any]]]

APP_KEY: AppKey[jinja2.Environment] = AppKey("APP_KEY", jinja2.Environment)
APP_CONTEXT_PROCESSORS_KEY: AppKey[tuple[ContextProcessor, ...]] = AppKey(
    "APP_CONTEXT_PROCESSORS_KEY", tuple
)
REQUEST_CONTEXT_KEY = "aiohttp_jinja2_context"


class Environment(jinja2.Environment):
    """A Jinja2 environment with autoescaping on by default and Flask's filter decorator:

    ``@env.template_filter('uppercase')`` registers a filter (``{{ name|uppercase }}``).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("autoescape", True)
        super().__init__(**kwargs)

    def template_filter(self, name: str | None = None) -> Callable[[_F], _F]:
        def register(func: _F) -> _F:
            self.filters[name or func.__name__] = func
            return func

        return register


def setup(
    app: Application,
    *args: Any,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    context_processors: Iterable[ContextProcessor] = (),
    filters: Mapping[str, Callable[..., Any]] | None = None,
    default_helpers: bool = True,
    environment: jinja2.Environment | None = None,
    **kwargs: Any,
) -> jinja2.Environment:
    """Attach a Jinja2 environment to ``app`` (made from ``loader=...`` etc., or given as
    ``environment=``) and return it. ``context_processors`` feed every render."""
    if environment is None:
        if args:
            kwargs["loader"] = args[0]  # aiohttp_jinja2 passes the loader positionally
        environment = Environment(**kwargs)
    env = environment
    if default_helpers:
        env.globals.setdefault("url", _url_helper)
        env.globals.setdefault("static", _static_helper)
    if filters:
        env.filters.update(filters)
    app[app_key] = env
    processors = tuple(context_processors)
    if processors:
        app[APP_CONTEXT_PROCESSORS_KEY] = processors
        app.middlewares.append(context_processors_middleware)
    return env


def get_env(
    app: Application, *, app_key: AppKey[jinja2.Environment] = APP_KEY
) -> jinja2.Environment:
    """The environment ``setup`` attached to ``app``."""
    env = app.get(app_key)
    if env is None:
        raise RuntimeError("Template engine is not initialized, call surge.templates.setup() first")
    return cast(jinja2.Environment, env)


def _context(request: Request, context: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {"app": request.app}
    merged.update(request.get(REQUEST_CONTEXT_KEY, {}))
    if context:
        merged.update(context)
    return merged


def _get_template(template_name: str, request: Request, app_key: Any) -> jinja2.Template:
    from surge.server.exceptions import HTTPInternalServerError

    env = request.config_dict.get(app_key)
    if env is None:
        raise HTTPInternalServerError(text="Template engine is not initialized")
    try:
        return cast(jinja2.Environment, env).get_template(template_name)
    except jinja2.TemplateNotFound as exc:
        raise HTTPInternalServerError(text=f"Template '{exc.name}' not found") from exc


def render_string(
    template_name: str,
    request: Request,
    context: Mapping[str, Any] | None,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
) -> str:
    """Render a template to a string (a synchronous environment only)."""
    tmpl = _get_template(template_name, request, app_key)
    if tmpl.environment.is_async:
        raise RuntimeError("The environment is async: use render_string_async")
    return tmpl.render(_context(request, context))


async def render_string_async(
    template_name: str,
    request: Request,
    context: Mapping[str, Any] | None,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
) -> str:
    """Render a template to a string with either kind of environment."""
    tmpl = _get_template(template_name, request, app_key)
    if tmpl.environment.is_async:
        return await tmpl.render_async(_context(request, context))
    return tmpl.render(_context(request, context))


def _response(text: str, encoding: str, status: int) -> Response:
    response = Response(status=status, content_type="text/html", charset=encoding)
    response.text = text
    return response


def render_template(
    template_name: str,
    request: Request,
    context: Mapping[str, Any] | None,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    encoding: str = "utf-8",
    status: int = 200,
) -> Response:
    """A ``text/html`` Response holding the rendered template."""
    return _response(
        render_string(template_name, request, context, app_key=app_key), encoding, status
    )


async def render_template_async(
    template_name: str,
    request: Request,
    context: Mapping[str, Any] | None,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    encoding: str = "utf-8",
    status: int = 200,
) -> Response:
    text = await render_string_async(template_name, request, context, app_key=app_key)
    return _response(text, encoding, status)


def template(
    template_name: str,
    *,
    app_key: AppKey[jinja2.Environment] = APP_KEY,
    encoding: str = "utf-8",
    status: int = 200,
) -> Callable[[_F], _F]:
    """Decorate a handler returning a context mapping: the response is the rendered template.
    A handler may still return a response of its own (a redirect, say)."""

    def wrapper(func: _F) -> _F:
        @functools.wraps(func)
        async def wrapped(*args: Any) -> StreamResponse:
            context = await func(*args)
            if isinstance(context, StreamResponse):
                return context
            # a class-based view's method gets ``self``; its request is ``self.request``
            request = args[-1]
            if not isinstance(request, Request):
                request = request.request
            return await render_template_async(
                template_name, request, context, app_key=app_key, encoding=encoding, status=status
            )

        return cast(_F, wrapped)

    return wrapper


async def request_processor(request: Request) -> dict[str, Any]:
    """A context processor that puts ``request`` in every template's context."""
    return {"request": request}


@middleware
async def context_processors_middleware(
    request: Request, handler: Callable[[Request], Awaitable[StreamResponse]]
) -> StreamResponse:
    context: dict[str, Any] = request.setdefault(REQUEST_CONTEXT_KEY, {})
    for processor in request.config_dict.get(APP_CONTEXT_PROCESSORS_KEY, ()):
        context.update(await processor(request))
    return await handler(request)


@jinja2.pass_context
def _url_helper(
    context: Any, route_name: str, query_: Mapping[str, str] | None = None, **parts: Any
) -> str:
    """``{{ url('user', id=1) }}``: the URL of a named route."""
    app: Application = context["app"]
    url = app.router[route_name].url_for(**{k: str(v) for k, v in parts.items()})
    return str(url.with_query(query_) if query_ else url)


@jinja2.pass_context
def _static_helper(context: Any, path: str) -> str:
    """``{{ static('app.js') }}``: ``app['static_root_url']`` joined with ``path``."""
    root = context["app"].get("static_root_url")
    if root is None:
        raise RuntimeError("app['static_root_url'] is not set")
    return f"{str(root).rstrip('/')}/{path.lstrip('/')}"
