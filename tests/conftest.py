"""Test set-up: run ``async def`` tests on a fresh event loop each (until surge's own pytest
plugin takes this over), and fail instead of skipping when CI lacks an interop tool."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


def require_tool(name: str) -> str:
    """The path of an external tool; skip locally when missing, fail in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI but not installed")
        pytest.skip(f"{name} not installed")
    return path
