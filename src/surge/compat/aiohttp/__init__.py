"""What ``import aiohttp`` gives under the alias: surge's client API and shared names.

Submodules (``aiohttp.web``, ``aiohttp.web_exceptions``, ...) are surge's modules or the thin
re-export modules beside this file; see :mod:`surge.compat.alias`.
"""

import importlib
from typing import Any

from surge import *  # noqa: F403
from surge import __all__ as _surge_all
from surge import __getattr__ as _surge_getattr
from surge.compat.alias import REDIRECTS

# The aiohttp API level surge implements; libraries that check aiohttp.__version__ see this.
__version__ = "3.14.0"

__all__ = [n for n in _surge_all if n != "__version__"]


def __getattr__(name: str) -> Any:
    # ``from aiohttp import web`` looks the name up here before importing a submodule by this
    # package's real name; the redirected submodules (web, test_utils, ...) are found here.
    target = REDIRECTS.get(f"aiohttp.{name}")
    if target is not None:
        return importlib.import_module(target)
    return _surge_getattr(name)
