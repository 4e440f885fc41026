"""Running the spec's examples (``spec/*.py``) with ``import aiohttp`` resolving to surge."""

from __future__ import annotations

import ast
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


def load(name: str, *, keep_locals: tuple[str, ...] = (), **replace: str) -> dict[str, Any]:
    """Execute ``spec/<name>.py`` (not as ``__main__``); ``replace`` substitutes text first,
    e.g. an external URL by a local server's.

    The functions named in ``keep_locals`` leave their local variables, as they were when the
    function ended, in ``ns["spec_locals"][function_name]``: the examples assign what they read
    (``text = await response.text()``) and keep it to themselves.
    """
    source = (SPEC / f"{name}.py").read_text()
    for old, new in replace.items():
        source = source.replace(old, new)
    path = SPEC / f"{name}.py"
    code = compile(_keeping_locals(source, keep_locals), str(path), "exec")
    # A real module in sys.modules: libraries such as pydantic resolve annotations through it.
    module = types.ModuleType(f"spec_examples.{name}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    with aliased():
        module.__dict__["spec_locals"] = {}
        exec(code, module.__dict__)
    return module.__dict__


def _keeping_locals(source: str, functions: tuple[str, ...]) -> ast.Module:
    """The module with each named function's body wrapped in
    ``try: ... finally: spec_locals[name] = dict(locals())``; line numbers unchanged."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions:
            found.add(node.name)
            doc = [] if ast.get_docstring(node) is None else node.body[:1]
            body = node.body[len(doc) :]
            keep = ast.parse(f"spec_locals[{node.name!r}] = dict(locals())").body
            wrapped = ast.Try(body=body, handlers=[], orelse=[], finalbody=keep)
            ast.copy_location(wrapped, body[0])
            node.body = [*doc, wrapped]
    assert found == set(functions), f"no such function: {set(functions) - found}"
    return ast.fix_missing_locations(tree)


def run_path(name: str) -> dict[str, Any]:
    with aliased():
        return runpy.run_path(str(SPEC / f"{name}.py"), run_name=f"spec_examples.{name}")
