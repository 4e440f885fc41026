"""AioHTTPTestCase: a unittest test case with a started server and a client for it."""

from __future__ import annotations

import asyncio
import unittest
from typing import Any, TypeVar

from surge.server.app import Application
from surge.testing.client import TestClient
from surge.testing.server import TestServer

__all__ = ["AioHTTPTestCase", "unittest_run_loop"]

_F = TypeVar("_F")


class AioHTTPTestCase(unittest.IsolatedAsyncioTestCase):
    """Override ``async def get_application(self)``; tests use ``self.client`` and ``self.server``.

    Example::

        class MyTest(AioHTTPTestCase):
            async def get_application(self):
                app = web.Application()
                app.router.add_get("/", handler)
                return app

            async def test_index(self):
                async with self.client.get("/") as resp:
                    assert resp.status == 200
    """

    loop: asyncio.AbstractEventLoop
    app: Application
    server: TestServer
    client: TestClient

    async def get_application(self) -> Application:
        """The application to test; must be overridden."""
        raise NotImplementedError

    async def get_server(self, app: Application) -> TestServer:
        return TestServer(app)

    async def get_client(self, server: TestServer) -> TestClient:
        return TestClient(server)

    async def asyncSetUp(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.app = await self.get_application()
        self.server = await self.get_server(self.app)
        self.client = await self.get_client(self.server)
        # If the client cannot start, the server must still be stopped.
        self.addAsyncCleanup(self.server.close)
        await self.client.start_server()

    async def asyncTearDown(self) -> None:
        await self.client.close()


def unittest_run_loop(func: _F, *args: Any, **kwargs: Any) -> _F:
    """A no-op kept for aiohttp code: ``AioHTTPTestCase`` runs ``async def`` tests itself."""
    return func
