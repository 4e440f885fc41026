"""The pytest plugin, exercised on test files a user would write, in a pytester sandbox."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

# Imported here so the in-process sandbox runs share these modules (pytester restores
# ``sys.modules`` after each run; a lazily imported second copy would have distinct classes).
import surge.test_utils
import surge.web  # noqa: F401

pytest_plugins = ["pytester"]

# With surge installed the entry point loads the plugin; from a bare checkout, load it by name.
_INSTALLED = any(ep.name == "surge" for ep in entry_points(group="pytest11"))
PLUGIN_ARGS = [] if _INSTALLED else ["-p", "surge.pytest_plugin"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-W", "error", "-p", "no:cacheprovider", *PLUGIN_ARGS, *args)


USER_TESTS = """
import asyncio
import contextvars
import socket

import pytest
from aiohttp_style import web

request_id = contextvars.ContextVar("request_id", default="unset")


@pytest.fixture
async def app():
    app = web.Application()

    async def hello(request):
        return web.Response(text="Hello, " + request.match_info["name"])

    app.router.add_get("/hello/{name}", hello)
    yield app


@pytest.fixture
async def tagged():
    request_id.set("from-fixture")
    yield asyncio.get_running_loop()


def fetch(port, path):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


async def test_app_server(aiohttp_server, app):
    server = await aiohttp_server(app)
    data = await asyncio.to_thread(fetch, server.port, "/hello/surge")
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert data.endswith(b"Hello, surge")


async def test_raw_server(aiohttp_raw_server, aiohttp_unused_port):
    async def handler(request):
        return web.Response(text=request.method + " " + request.path)

    port = aiohttp_unused_port()
    server = await aiohttp_raw_server(handler, port=port)
    assert server.port == port
    data = await asyncio.to_thread(fetch, port, "/raw")
    assert data.endswith(b"GET /raw")


async def test_fixture_shares_loop_and_context(tagged, loop):
    assert tagged is asyncio.get_running_loop() is loop
    assert request_id.get() == "from-fixture"


def test_sync_test_may_use_loop(loop):
    assert loop.run_until_complete(asyncio.sleep(0, result=7)) == 7


@pytest.mark.parametrize("n", [1, 2])
async def test_parametrized(n):
    await asyncio.sleep(0)
    assert n in (1, 2)


class TestInClass:
    @pytest.fixture
    async def value(self):
        yield 10

    async def test_method(self, value):
        assert value == 10


async def test_surge_aliases(surge_server, surge_raw_server, unused_port):
    assert callable(surge_server) and callable(surge_raw_server)
    assert isinstance(unused_port(), int)
"""


def _write_user_tests(pytester: pytest.Pytester) -> None:
    # User code imports ``from aiohttp import web``; the alias module is another issue's job,
    # so the sandbox stands it in with a one-line module.
    pytester.makepyfile(aiohttp_style="from surge import web")
    pytester.makepyfile(test_user=USER_TESTS)


def test_user_tests_pass(pytester: pytest.Pytester) -> None:
    _write_user_tests(pytester)
    result = run(pytester)
    result.assert_outcomes(passed=8)


def test_surge_loop_all_runs_each_test_on_both_loops(pytester: pytest.Pytester) -> None:
    _write_user_tests(pytester)
    pytester.makepyfile(
        test_loops="""
        import asyncio

        async def test_loop_kind(request):
            loop = asyncio.get_running_loop()
            name = request.node.callspec.id
            assert (type(loop).__module__.startswith("uvloop")) == (name == "uvloop")
        """
    )
    result = run(pytester, "--surge-loop=all", "-v")
    result.assert_outcomes(passed=18)
    result.stdout.fnmatch_lines(
        ["*test_loop_kind?asyncio? PASSED*", "*test_loop_kind?uvloop? PASSED*"]
    )


def test_surge_loop_uvloop_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio

        async def test_on_uvloop():
            assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
        """
    )
    run(pytester, "--surge-loop=uvloop").assert_outcomes(passed=1)


def test_unknown_loop_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = run(pytester, "--surge-loop=trio")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_failing_async_test_is_reported_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio

        async def test_fails():
            await asyncio.sleep(0)
            assert 1 == 2

        async def test_raises():
            raise RuntimeError("inside the loop")
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*assert 1 == 2*", "*RuntimeError: inside the loop*"])


def test_async_fixture_teardown_runs_before_the_loop_closes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        EVENTS = []

        @pytest.fixture
        async def resource():
            EVENTS.append("setup")
            yield "res"
            await asyncio.sleep(0)  # needs the loop still open
            EVENTS.append("teardown")

        @pytest.fixture
        async def plain_coroutine():
            return 3

        async def test_uses(resource, plain_coroutine):
            assert (resource, plain_coroutine) == ("res", 3)
            EVENTS.append("test")

        def test_after():
            assert EVENTS == ["setup", "test", "teardown"]
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_failing_async_fixture_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        async def broken():
            raise ValueError("no resource")
            yield

        async def test_x(broken):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ValueError: no resource*"])


def test_servers_are_closed_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket
        import pytest
        from surge import web

        PORTS = []

        async def test_start(aiohttp_server, aiohttp_raw_server):
            async def handler(request):
                return web.Response(text="x")

            app = web.Application()
            cleaned = []
            app.on_cleanup.append(lambda app: _note(cleaned))
            PORTS.append((await aiohttp_server(app)).port)
            PORTS.append((await aiohttp_raw_server(handler)).port)

        async def _note(cleaned):
            cleaned.append(True)

        def test_ports_now_closed():
            assert len(PORTS) == 2
            for port in PORTS:
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_defers_to_pytest_asyncio_for_tests_it_owns(pytester: pytest.Pytester) -> None:
    # A stand-in registered under pytest-asyncio's plugin name, in strict mode: it runs the
    # ``asyncio``-marked test itself; surge must not run that test a second time.
    pytester.makeconftest(
        """
        import asyncio
        import pytest

        RUNS = []

        class FakeAsyncio:
            @pytest.hookimpl(tryfirst=True)
            def pytest_pyfunc_call(self, pyfuncitem):
                if pyfuncitem.get_closest_marker("asyncio") is None:
                    return None
                RUNS.append(pyfuncitem.name)
                asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in pyfuncitem._fixtureinfo.argnames}))
                return True

        def pytest_addoption(parser):
            parser.addini("asyncio_mode", "mode", default="strict")

        def pytest_configure(config):
            config.addinivalue_line("markers", "asyncio: owned by pytest-asyncio")
            config.pluginmanager.register(FakeAsyncio(), "asyncio")
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        from conftest import RUNS

        @pytest.mark.asyncio
        async def test_owned(request):
            assert "loop" not in request.fixturenames

        async def test_ours(loop):
            assert asyncio.get_running_loop() is loop

        def test_counts():
            assert RUNS == ["test_owned"]
        """
    )
    run(pytester).assert_outcomes(passed=3)
