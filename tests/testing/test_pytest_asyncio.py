"""surge's pytest plugin next to the real pytest-asyncio, in strict and auto modes.

pytest-asyncio is installed for this test only, into a temporary directory put on the
sandbox's path, so it never loads into the rest of the suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import asyncio
import pytest
from surge import web


@pytest.fixture
async def surge_side():
    await asyncio.sleep(0)
    yield "surge-fixture"


async def test_plain_async_test(surge_side):
    # Unmarked: in strict mode pytest-asyncio leaves it to surge's plugin.
    assert surge_side == "surge-fixture"
    await asyncio.sleep(0)


async def test_with_aiohttp_client(aiohttp_client):
    async def hello(request):
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hello)
    client = await aiohttp_client(app)
    response = await client.get("/")
    assert response.status == 200
    assert await response.text() == "hi"


@pytest.mark.asyncio
async def test_owned_by_pytest_asyncio():
    RUNS.append("asyncio")
    await asyncio.sleep(0)
    assert len(RUNS) == 1  # run exactly once, by pytest-asyncio


RUNS = []
"""


@pytest.fixture(scope="module")
def pytest_asyncio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("pytest-asyncio")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    result = subprocess.run([*cmd, "pytest-asyncio>=1.0"], capture_output=True, text=True)
    if result.returncode != 0:
        message = f"cannot install pytest-asyncio: {result.stderr[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return target


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_both_plugins_together(
    pytester: pytest.Pytester,
    pytest_asyncio_dir: Path,
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(pytest_asyncio_dir), path])))
    pytester.makeini(
        f"[pytest]\nasyncio_mode = {mode}\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-v")  # both plugins load by their entry points
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 3, result.stdout.str()
    assert "failed" not in outcomes and "error" not in outcomes, result.stdout.str()
    assert re.search(r"^plugins:.*\basyncio-\d", result.stdout.str(), re.M)  # it was active
