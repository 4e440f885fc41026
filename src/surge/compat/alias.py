"""Opt-in alias: ``import aiohttp`` resolves to surge.

``surge.compat.alias.install()`` puts a finder first on ``sys.meta_path`` that answers for
``aiohttp``, ``aiohttp.<module>`` and ``aiohttp_jinja2`` with surge's modules, so a real aiohttp
installed in the same environment is never reached. Installing after the real aiohttp was imported
is refused: the program would hold two incompatible copies of every class.

Command line forms, running a script with the alias active::

    python -m surge.compat.alias script.py [args]
    surge run --aiohttp script.py [args]
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import types
from collections.abc import Sequence

__all__ = ["AliasError", "install", "installed", "main", "run_script", "uninstall"]

# aiohttp module -> surge module; anything else under aiohttp.* maps to surge.compat.aiohttp.*.
REDIRECTS = {
    "aiohttp": "surge.compat.aiohttp",
    "aiohttp.web": "surge.web",
    "aiohttp.test_utils": "surge.test_utils",
    "aiohttp.pytest_plugin": "surge.pytest_plugin",
    "aiohttp.hdrs": "surge.hdrs",
    "aiohttp.typedefs": "surge.typedefs",
    "aiohttp.worker": "surge.server.worker",
    "aiohttp_jinja2": "surge.templates",
}


class AliasError(RuntimeError):
    """The alias cannot be installed (the real aiohttp is already imported)."""


def target_of(fullname: str) -> str | None:
    """The surge module standing for ``fullname``, or None when the alias does not cover it."""
    if fullname in REDIRECTS:
        return REDIRECTS[fullname]
    if fullname.startswith("aiohttp."):
        return "surge.compat.aiohttp." + fullname[len("aiohttp.") :]
    return None


class _Loader(importlib.abc.Loader):
    """Hands out an existing surge module instead of executing anything."""

    def __init__(self, target: types.ModuleType) -> None:
        self._target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        # A throw-away module object gets the alias spec, so surge's module keeps its own.
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system returns whatever sys.modules holds under the name after this call.
        sys.modules[module.__name__] = self._target


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``aiohttp``/``aiohttp.*``/``aiohttp_jinja2`` as surge modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        name = target_of(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # a real missing dependency inside surge's module
            return None  # e.g. aiohttp.web_no_such_module: an ordinary ImportError follows
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _Loader(module), is_package=is_package)


_finder: AliasFinder | None = None


def installed() -> bool:
    return _finder is not None


def _aliased(name: str) -> bool:
    return name in ("aiohttp", "aiohttp_jinja2") or name.startswith("aiohttp.")


def install() -> None:
    """Make ``import aiohttp`` give surge. Idempotent; refused if real aiohttp is loaded."""
    global _finder
    if _finder is not None:
        return
    for name in ("aiohttp", "aiohttp_jinja2"):
        module = sys.modules.get(name)
        if module is not None and not getattr(module, "__name__", "").startswith("surge."):
            raise AliasError(
                f"the real {name} is already imported ({getattr(module, '__file__', '?')}); "
                "call surge.compat.alias.install() before anything imports aiohttp"
            )
    _finder = AliasFinder()
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the finder and forget every module imported under an aliased name."""
    global _finder
    if _finder is None:
        return
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None
    for name in [n for n in sys.modules if _aliased(n)]:
        del sys.modules[name]


def run_script(argv: Sequence[str]) -> None:
    """Run ``argv[0]`` (a script path, or ``-m module``) as ``__main__`` with the alias active."""
    if not argv:
        raise SystemExit("usage: python -m surge.compat.alias script.py [args] | -m module [args]")
    install()
    if argv[0] == "-m" and len(argv) > 1:
        sys.argv = list(argv[1:])
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    sys.argv = list(argv)
    # As ``python script.py`` does: the script's directory comes first on the path.
    sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
    runpy.run_path(argv[0], run_name="__main__")


def main(argv: Sequence[str] | None = None) -> None:
    run_script(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    # Run through the imported module, so install() state lives where later imports find it.
    from surge.compat.alias import main as _main

    _main()
