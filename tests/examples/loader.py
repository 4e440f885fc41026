"""Running the spec's examples (``spec/*.py``) with ``import aiohttp`` resolving to surge."""

from __future__ import annotations

import contextlib
import runpy
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from surge.compat import alias

SPEC = Path(__file__).parent / "spec"


@contextlib.contextmanager
def aliased() -> Iterator[None]:
    """The alias for the duration of a block; the real aiohttp, if imported, is set aside."""
    if alias.installed():
        yield
        return
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if alias._aliased(n)}
    alias.install()
    try:
        yield
    finally:
        alias.uninstall()
        sys.modules.update(saved)


def load(name: str, **replace: str) -> dict[str, Any]:
    """Execute ``spec/<name>.py`` (not as ``__main__``); ``replace`` substitutes text first,
    e.g. an external URL by a local server's."""
    source = (SPEC / f"{name}.py").read_text()
    for old, new in replace.items():
        source = source.replace(old, new)
    path = SPEC / f"{name}.py"
    # A real module in sys.modules: libraries such as pydantic resolve annotations through it.
    module = types.ModuleType(f"spec_examples.{name}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    with aliased():
        exec(compile(source, str(path), "exec"), module.__dict__)
    return module.__dict__


def run_path(name: str) -> dict[str, Any]:
    with aliased():
        return runpy.run_path(str(SPEC / f"{name}.py"), run_name=f"spec_examples.{name}")
