"""TestClient and AioHTTPTestCase, including the spec's examples, over real sockets."""

from __future__ import annotations

import pytest

import surge.test_utils
from surge import web
from surge.test_utils import AioHTTPTestCase, RawTestServer, TestClient, TestServer

pytest_plugins = ["pytester"]


def _app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"test": True})

    app = web.Application()
    app.router.add_get("/test", handler)
    return app


async def test_wraps_app_or_server_without_a_session() -> None:
    app = _app()
    client = TestClient(app)
    assert isinstance(client.server, TestServer) and client.app is app
    await client.server.start_server()
    assert client.host == "127.0.0.1" and client.port == client.server.port
    assert str(client.make_url("/test")) == f"http://127.0.0.1:{client.port}/test"
    await client.close()  # closes the server even though no session was opened
    assert client.server.closed

    async def raw(request: web.BaseRequest) -> web.Response:
        return web.Response()

    raw_client = TestClient(RawTestServer(raw))
    assert raw_client.app is None
    await raw_client.close()


def test_rejects_other_arguments() -> None:
    with pytest.raises(TypeError):
        TestClient(object())  # type: ignore[arg-type]


async def test_spec_example_test_client_with_app() -> None:
    async with surge.test_utils.TestClient(_app()) as client:
        async with client.get("/test") as response:
            assert response.status == 200
            assert await response.json() == {"test": True}
        resp = await client.post("/test")
        assert resp.status == 405


def test_aiohttp_client_fixture_both_forms(pytester: pytest.Pytester) -> None:
    from tests.testing.test_plugin import run

    pytester.makepyfile(
        """
        from surge import web

        def make_app():
            async def hello(request):
                return web.Response(text="hi")
            app = web.Application()
            app.router.add_get("/", hello)
            return app

        async def test_awaited(aiohttp_client):
            client = await aiohttp_client(make_app())
            resp = await client.get("/")
            assert resp.status == 200 and await resp.text() == "hi"

        async def test_context_manager(aiohttp_client, aiohttp_server):
            server = await aiohttp_server(make_app())
            async with aiohttp_client(server) as client:
                async with client.get("/") as resp:
                    assert await resp.text() == "hi"
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_aiohttp_test_case_spec_example(pytester: pytest.Pytester) -> None:
    from tests.testing.test_plugin import run

    pytester.makepyfile(
        """
        from surge import web
        from surge.test_utils import AioHTTPTestCase, unittest_run_loop

        class MyTestCase(AioHTTPTestCase):
            async def get_application(self):
                app = web.Application()
                app.router.add_get('/', lambda r: web.Response(text='OK'))
                return app

            @unittest_run_loop
            async def test_index(self):
                async with self.client.get('/') as response:
                    text = await response.text()
                    assert text == 'OK'
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_aiohttp_test_case_stops_its_server_when_the_client_cannot_start() -> None:
    import unittest

    ports: list[int | None] = []

    class Case(AioHTTPTestCase):
        async def get_application(self) -> web.Application:
            return _app()

        async def get_client(self, server: TestServer) -> TestClient:
            client = await super().get_client(server)

            async def failing_start() -> None:
                await server.start_server()
                ports.append(server.port)
                raise RuntimeError("client unavailable")

            client.start_server = failing_start  # type: ignore[method-assign]
            return client

        async def test_nothing(self) -> None:
            pass

    result = unittest.TestResult()
    Case("test_nothing").run(result)
    assert len(result.errors) == 1 and "client unavailable" in result.errors[0][1]
    assert len(ports) == 1
    import socket

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", ports[0]), timeout=1).close()  # type: ignore[arg-type]
