"""surge.pytest_plugin: the pytest plugin under aiohttp's module name (``pytest11`` entry point).

The implementation lives in :mod:`surge.testing.pytest_plugin`; pytest reads hooks and fixtures
from this module's names.
"""

from surge.testing.pytest_plugin import (
    aiohttp_client,
    aiohttp_raw_server,
    aiohttp_server,
    aiohttp_unused_port,
    loop,
    pytest_addoption,
    pytest_configure,
    pytest_fixture_setup,
    pytest_generate_tests,
    pytest_pycollect_makeitem,
    pytest_pyfunc_call,
    surge_client,
    surge_loop_factory,
    surge_raw_server,
    surge_server,
    unused_port,
)

__all__ = [
    "aiohttp_client",
    "aiohttp_raw_server",
    "aiohttp_server",
    "aiohttp_unused_port",
    "loop",
    "pytest_addoption",
    "pytest_configure",
    "pytest_fixture_setup",
    "pytest_generate_tests",
    "pytest_pycollect_makeitem",
    "pytest_pyfunc_call",
    "surge_client",
    "surge_loop_factory",
    "surge_raw_server",
    "surge_server",
    "unused_port",
]
