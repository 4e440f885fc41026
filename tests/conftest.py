"""Test set-up: async tests run through surge's own pytest plugin, and interop tools fail
instead of skipping in CI."""

from __future__ import annotations

import os
import shutil
from importlib.metadata import entry_points

import pytest

# Installed surge registers its plugin through the ``pytest11`` entry point; a checkout whose
# installed metadata predates the entry point (or a bare PYTHONPATH run) loads it here instead.
if not any(ep.name == "surge" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["surge.pytest_plugin"]


def require_tool(name: str) -> str:
    """The path of an external tool; skip locally when missing, fail in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI but not installed")
        pytest.skip(f"{name} not installed")
    return path
