"""surge.test_utils: test servers, the test client and mocks, under aiohttp's module name."""

from surge.testing.case import AioHTTPTestCase, unittest_run_loop
from surge.testing.client import TestClient
from surge.testing.mocks import (
    HttpVersion,
    MockedTransport,
    MockedWriter,
    make_mocked_coro,
    make_mocked_request,
)
from surge.testing.server import BaseTestServer, RawTestServer, TestServer
from surge.testing.utils import (
    get_port_socket,
    loop_context,
    setup_test_loop,
    teardown_test_loop,
    unused_port,
)

__all__ = [
    "AioHTTPTestCase",
    "BaseTestServer",
    "HttpVersion",
    "MockedTransport",
    "MockedWriter",
    "RawTestServer",
    "TestClient",
    "TestServer",
    "get_port_socket",
    "loop_context",
    "make_mocked_coro",
    "make_mocked_request",
    "setup_test_loop",
    "teardown_test_loop",
    "unittest_run_loop",
    "unused_port",
]
