"""surge exposes aiohttp 3.14's public surface: every name of ``aiohttp.__all__`` and
``aiohttp.web.__all__``, of the same kind, with the same exception bases.

The list is data (``data/aiohttp_names.json``, produced by ``data/generate.py`` from an installed
aiohttp by introspection), so the test needs no aiohttp.
"""

from __future__ import annotations

import inspect
import json
import pathlib
import types
from typing import Any

import pytest

import surge
import surge.web

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "aiohttp_names.json").read_text())
MODULES = {"aiohttp": surge, "aiohttp.web": surge.web}
CASES = [(mod, name, spec) for mod in MODULES for name, spec in sorted(DATA[mod].items())]


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    if inspect.ismodule(obj):
        return "module"
    return "object"


def _lookup(base: str, mod: str) -> Any:
    import builtins

    if hasattr(builtins, base):
        return getattr(builtins, base)
    for candidate in (MODULES[mod], surge, surge.web):
        if hasattr(candidate, base):
            return getattr(candidate, base)
    raise AssertionError(f"base {base} not exported")


def test_counts_match_aiohttp_3_14() -> None:
    assert DATA["aiohttp_version"].startswith("3.14")
    assert len(DATA["aiohttp"]) == 113
    assert len(DATA["aiohttp.web"]) == 117


@pytest.mark.parametrize(("mod", "name", "spec"), CASES, ids=[f"{m}.{n}" for m, n, _ in CASES])
def test_name_exists_with_the_right_kind(mod: str, name: str, spec: dict[str, Any]) -> None:
    module = MODULES[mod]
    assert name in module.__all__, f"{name} missing from {module.__name__}.__all__"
    obj = getattr(module, name)
    kind = spec["kind"]
    if kind == "alias":  # a typing alias: any type-like object will do
        assert obj is not None
        return
    if kind in ("class", "exception") and name in ("Fingerprint",):
        assert callable(obj)
        return
    got = _kind(obj)
    if kind == "function":
        # aiohttp's functions may be classes in surge when calling them does the same job.
        assert callable(obj) and not isinstance(obj, types.ModuleType), name
    else:
        assert got == kind, f"{mod}.{name}: aiohttp has a {kind}, surge a {got}"
    for base in spec["bases"]:
        assert issubclass(obj, _lookup(base, mod)), f"{name} is not a subclass of {base}"
