"""surge's pytest plugin: runs ``async def`` tests and fixtures, and provides aiohttp's fixtures.

Registered through the ``pytest11`` entry point, so installing surge is enough.

- Each async test, and every async fixture it uses, runs on one fresh loop (the ``loop``
  fixture) and in one ``contextvars`` context, so a context variable set in a fixture is seen
  by the test. ``--surge-loop=asyncio|uvloop|all`` picks the loop; ``all`` runs each test once
  per loop.
- Fixtures: ``aiohttp_server``, ``aiohttp_raw_server``, ``aiohttp_client``,
  ``aiohttp_unused_port`` and the aliases ``surge_server``, ``surge_raw_server``,
  ``surge_client``, ``unused_port``. Everything they start is closed at teardown.
- With pytest-asyncio active, the tests and fixtures it owns (all async ones in auto mode,
  the ``asyncio``-marked tests and ``pytest_asyncio.fixture`` fixtures in strict mode) are left
  to it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any, TypeVar

import pytest

_T = TypeVar("_T")
LoopFactory = Callable[[], asyncio.AbstractEventLoop]

LOOP_NAMES = ("asyncio", "uvloop")
_CONTEXT = pytest.StashKey[contextvars.Context]()


# options and loops -----------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("surge")
    group.addoption(
        "--surge-loop",
        action="store",
        default="asyncio",
        help="event loop(s) for async tests: asyncio, uvloop, or all (comma-separated list ok)",
    )
    group.addoption(
        "--surge-fast",
        action="store_true",
        default=False,
        help="skip the garbage collection after each async test",
    )


def _loop_factory(name: str) -> LoopFactory:
    if name == "uvloop":
        import uvloop

        factory: LoopFactory = uvloop.new_event_loop
        return factory
    return asyncio.new_event_loop


def _selected_loops(config: pytest.Config) -> list[str]:
    raw = str(config.getoption("surge_loop", "asyncio") or "asyncio")
    names: list[str] = []
    for part in raw.split(","):
        name = part.strip()
        if name == "all":
            names.extend(LOOP_NAMES)
        elif name in LOOP_NAMES:
            names.append(name)
        else:
            raise pytest.UsageError(f"--surge-loop: unknown loop {name!r} (asyncio, uvloop, all)")
    return list(dict.fromkeys(names))


def pytest_configure(config: pytest.Config) -> None:
    names = _selected_loops(config)
    if "uvloop" in names:
        try:
            import uvloop  # noqa: F401
        except ImportError:
            raise pytest.UsageError("--surge-loop=uvloop needs uvloop installed") from None
    if not _asyncio_active(config):
        # pytest-asyncio owns ``event_loop`` when it is installed; offer it only otherwise.
        config.pluginmanager.register(_EventLoopFixture(), "surge-event-loop")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "surge_loop_factory" not in metafunc.fixturenames:
        return
    names = _selected_loops(metafunc.config)
    if names == ["asyncio"]:
        return  # the default: keep test ids unchanged
    metafunc.parametrize(
        "surge_loop_factory", [_loop_factory(n) for n in names], ids=names, scope="function"
    )


# pytest-asyncio cooperation ----------------------------------------------------------------------


def _asyncio_active(config: pytest.Config) -> bool:
    pm = config.pluginmanager
    return pm.has_plugin("asyncio") or pm.has_plugin("pytest_asyncio.plugin")


def _asyncio_mode(config: pytest.Config) -> str:
    mode = config.getoption("asyncio_mode", None)
    if not mode:
        try:
            mode = config.getini("asyncio_mode")
        except ValueError:
            mode = "strict"
    return str(mode or "strict")


def _owned_by_asyncio(config: pytest.Config, marked: bool) -> bool:
    """True when pytest-asyncio runs this async test (auto mode, or marked in strict mode)."""
    if not _asyncio_active(config):
        return False
    return _asyncio_mode(config) == "auto" or marked


def _is_async_function(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj)


# running tests -----------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    """Make every async test we run depend on ``loop`` (so ``--surge-loop`` parametrises it)."""
    if not (_is_async_function(obj) and collector.istestfunction(obj, name)):  # type: ignore[attr-defined]
        return
    marks = [m.name for m in getattr(obj, "pytestmark", [])]
    marked = "asyncio" in marks or any(True for _ in collector.iter_markers("asyncio"))
    if _owned_by_asyncio(collector.config, marked):
        return
    pytest.mark.usefixtures("loop")(obj)


def _context(node: pytest.Item | pytest.Collector) -> contextvars.Context:
    ctx = node.stash.get(_CONTEXT, None)
    if ctx is None:
        ctx = node.stash[_CONTEXT] = contextvars.copy_context()
    return ctx


def _run(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, _T], ctx: contextvars.Context
) -> _T:
    task = loop.create_task(coro, context=ctx)
    return loop.run_until_complete(task)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not _is_async_function(pyfuncitem.obj) or "loop" not in pyfuncitem.funcargs:
        return None
    if _owned_by_asyncio(pyfuncitem.config, pyfuncitem.get_closest_marker("asyncio") is not None):
        return None
    loop = pyfuncitem.funcargs["loop"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    _run(loop, pyfuncitem.obj(**kwargs), _context(pyfuncitem))
    return True


# async fixtures ----------------------------------------------------------------------------------


def _fixture_owned_by_asyncio(config: pytest.Config, func: Any) -> bool:
    if not _asyncio_active(config):
        return False
    return _asyncio_mode(config) == "auto" or bool(getattr(func, "_force_asyncio_fixture", False))


async def _anext(agen: AsyncIterator[_T]) -> _T:
    return await agen.__anext__()


def _sync_fixture(func: Any, loop: asyncio.AbstractEventLoop, ctx: contextvars.Context) -> Any:
    """A synchronous stand-in for an async fixture function, running it on ``loop``."""
    if inspect.isasyncgenfunction(func):

        def gen_wrapper(**kwargs: Any) -> Iterator[Any]:
            agen = func(**kwargs)
            try:
                value = _run(loop, _anext(agen), ctx)
            except StopAsyncIteration:
                raise ValueError(f"async fixture {func.__name__} did not yield a value") from None
            yield value
            try:
                _run(loop, _anext(agen), ctx)
            except StopAsyncIteration:
                return
            pytest.fail(f"async fixture {func.__name__} has more than one 'yield'")

        return gen_wrapper

    def wrapper(**kwargs: Any) -> Any:
        return _run(loop, func(**kwargs), ctx)

    return wrapper


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    original = func = fixturedef.func
    if not (inspect.isasyncgenfunction(func) or inspect.iscoroutinefunction(func)):
        return (yield)
    if _fixture_owned_by_asyncio(request.config, func):
        return (yield)
    loop = request.getfixturevalue("loop")
    if request.instance is not None and hasattr(func, "__func__"):
        func = func.__func__.__get__(request.instance)  # a fixture method of the test class
    # pytest calls ``fixturedef.func``; swap in a synchronous stand-in for this one call.
    fixturedef.func = _sync_fixture(func, loop, _context(request.node))  # type: ignore[misc]
    try:
        return (yield)
    finally:
        fixturedef.func = original  # type: ignore[misc]


# fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def surge_loop_factory(request: pytest.FixtureRequest) -> LoopFactory:
    """The loop factory for this test (parametrised by ``--surge-loop``)."""
    return _loop_factory(_selected_loops(request.config)[0])


@pytest.fixture
def loop(
    surge_loop_factory: LoopFactory, request: pytest.FixtureRequest
) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh event loop for this test, closed (with everything left on it) afterwards."""
    from surge.testing.utils import loop_context

    fast = bool(request.config.getoption("surge_fast", False))
    with loop_context(surge_loop_factory, fast=fast) as new_loop:
        yield new_loop


class _EventLoopFixture:
    """``event_loop``: pytest-asyncio's name for the test loop, when pytest-asyncio is absent."""

    @pytest.fixture
    def event_loop(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        return loop


@pytest.fixture
def aiohttp_unused_port() -> Callable[[], int]:
    """A function returning a free TCP port on 127.0.0.1."""
    from surge.testing.utils import unused_port

    return unused_port


@pytest.fixture
def unused_port(aiohttp_unused_port: Callable[[], int]) -> Callable[[], int]:
    return aiohttp_unused_port


@pytest.fixture
async def aiohttp_server(loop: asyncio.AbstractEventLoop) -> AsyncIterator[Callable[..., Any]]:
    """``server = await aiohttp_server(app, port=None, **kwargs)``: a started TestServer."""
    from surge.testing.server import TestServer

    servers: list[Any] = []

    async def start(app: Any, *, port: int | None = None, **kwargs: Any) -> TestServer:
        server = TestServer(app, port=port)
        servers.append(server)
        await server.start_server(**kwargs)
        return server

    yield start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def aiohttp_raw_server(loop: asyncio.AbstractEventLoop) -> AsyncIterator[Callable[..., Any]]:
    """``server = await aiohttp_raw_server(handler, port=None, **kwargs)``: a RawTestServer."""
    from surge.testing.server import RawTestServer

    servers: list[Any] = []

    async def start(handler: Any, *, port: int | None = None, **kwargs: Any) -> RawTestServer:
        server = RawTestServer(handler, port=port)
        servers.append(server)
        await server.start_server(**kwargs)
        return server

    yield start
    for server in reversed(servers):
        await server.close()


class _ClientStart:
    """What ``aiohttp_client(...)`` returns: await it, or ``async with`` it."""

    __slots__ = ("_client", "_clients")

    def __init__(self, client: Any, clients: list[Any]) -> None:
        self._client = client
        self._clients = clients

    async def _start(self) -> Any:
        self._clients.append(self._client)
        await self._client.start_server()
        return self._client

    def __await__(self) -> Generator[Any, None, Any]:
        return self._start().__await__()

    async def __aenter__(self) -> Any:
        return await self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.close()


@pytest.fixture
async def aiohttp_client(loop: asyncio.AbstractEventLoop) -> AsyncIterator[Callable[..., Any]]:
    """``client = await aiohttp_client(app_or_server, *, server_kwargs=None, **client_kwargs)``.

    Also usable as ``async with aiohttp_client(app) as client:``.
    """
    from surge.server.app import Application
    from surge.testing.client import TestClient
    from surge.testing.server import BaseTestServer, TestServer

    clients: list[Any] = []

    def make(
        target: Any, *, server_kwargs: dict[str, Any] | None = None, **kwargs: Any
    ) -> _ClientStart:
        if isinstance(target, Application):
            client = TestClient(TestServer(target, **(server_kwargs or {})), **kwargs)
        elif isinstance(target, BaseTestServer):
            client = TestClient(target, **kwargs)
        else:
            raise ValueError(f"Unknown argument type: {type(target)!r}")
        return _ClientStart(client, clients)

    yield make
    for client in reversed(clients):
        await client.close()


@pytest.fixture
def surge_server(aiohttp_server: Callable[..., Any]) -> Callable[..., Any]:
    return aiohttp_server


@pytest.fixture
def surge_raw_server(aiohttp_raw_server: Callable[..., Any]) -> Callable[..., Any]:
    return aiohttp_raw_server


@pytest.fixture
def surge_client(aiohttp_client: Callable[..., Any]) -> Callable[..., Any]:
    return aiohttp_client
