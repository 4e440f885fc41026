"""Regenerate aiohttp_names.json from an installed aiohttp (names and kinds only, no source).

/work/main/.venv/bin/python tests/compat/data/generate.py
"""

from __future__ import annotations

import builtins
import inspect
import json
import pathlib
import warnings

import aiohttp
import aiohttp.web


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    if inspect.ismodule(obj):
        return "module"
    if type(obj).__module__ in ("typing", "types", "collections.abc"):
        return "alias"
    return "object"


def _bases(obj: object, public: set[str]) -> list[str]:
    """Base classes worth checking: builtins and other public aiohttp names."""
    if not inspect.isclass(obj):
        return []
    out = []
    for base in obj.__mro__[1:]:
        if base is object:
            continue
        if getattr(builtins, base.__name__, None) is base or base.__name__ in public:
            out.append(base.__name__)
    return out


def _surface(module: object, public: set[str]) -> dict[str, dict[str, object]]:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in module.__all__:  # type: ignore[attr-defined]
            obj = getattr(module, name)
            out[name] = {"kind": _kind(obj), "bases": _bases(obj, public)}
    return out


def main() -> None:
    public = set(aiohttp.__all__) | set(aiohttp.web.__all__)
    data = {
        "aiohttp_version": aiohttp.__version__,
        "aiohttp": _surface(aiohttp, public),
        "aiohttp.web": _surface(aiohttp.web, public),
    }
    path = pathlib.Path(__file__).with_name("aiohttp_names.json")
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{path}: {len(data['aiohttp'])} + {len(data['aiohttp.web'])} names")


if __name__ == "__main__":
    main()
