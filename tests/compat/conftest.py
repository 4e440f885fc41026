"""The ``alias`` fixture: ``import aiohttp`` gives surge for one test, then is undone."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from surge.compat import alias as alias_module


@pytest.fixture
def alias() -> Iterator[None]:
    # The real aiohttp may be imported by an earlier test in this process; it is set aside for
    # the test (the alias refuses to install next to it) and put back afterwards.
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if alias_module._aliased(n)}
    alias_module.install()
    try:
        yield
    finally:
        alias_module.uninstall()
        sys.modules.update(saved)
