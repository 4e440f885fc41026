"""Regenerate aiohttp_surface.json from an installed aiohttp, by introspection only (names and
``inspect.signature``, never source): for every public class of ``aiohttp`` and
``aiohttp.web``, its constructor's parameters, its public attributes and its public methods'
parameters; and the public attributes of a few instances (what ``dir()`` shows on a live
object, which includes attributes set in ``__init__``).

/work/main/.venv/bin/python tests/compat/data/generate_surface.py
"""

from __future__ import annotations

import asyncio
import inspect
import json
import pathlib
import warnings
from typing import Any

import aiohttp
import aiohttp.web


def _params(obj: Any) -> list[str] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        name
        for name, p in sig.parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and name != "self"
    ]


def _class(cls: type) -> dict[str, Any]:
    methods = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if inspect.isfunction(attr):
            params = _params(attr)
            if params is not None:
                methods[name] = [p for p in params if p not in ("cls",)]
    return {
        "params": _params(cls) if not issubclass(cls, BaseException) else None,
        "attrs": sorted(n for n in dir(cls) if not n.startswith("_")),
        "methods": methods,
    }


async def _instances() -> dict[str, list[str]]:
    def public(obj: object) -> list[str]:
        return sorted(n for n in dir(obj) if not n.startswith("_"))

    out: dict[str, list[str]] = {}
    async with aiohttp.ClientSession() as session:
        out["aiohttp.ClientSession"] = public(session)
    connector = aiohttp.TCPConnector()
    out["aiohttp.TCPConnector"] = public(connector)
    await connector.close()
    unix = aiohttp.UnixConnector("/nonexistent")
    out["aiohttp.UnixConnector"] = public(unix)
    await unix.close()
    out["aiohttp.ClientTimeout"] = public(aiohttp.ClientTimeout())
    out["aiohttp.BasicAuth"] = public(aiohttp.BasicAuth("u", "p"))
    out["aiohttp.CookieJar"] = public(aiohttp.CookieJar())
    out["aiohttp.FormData"] = public(aiohttp.FormData())
    out["aiohttp.TraceConfig"] = public(aiohttp.TraceConfig())
    app = aiohttp.web.Application()
    out["aiohttp.web.Application"] = public(app)
    out["aiohttp.web.UrlDispatcher"] = public(app.router)
    out["aiohttp.web.Response"] = public(aiohttp.web.Response())
    out["aiohttp.web.StreamResponse"] = public(aiohttp.web.StreamResponse())
    out["aiohttp.web.WebSocketResponse"] = public(aiohttp.web.WebSocketResponse())
    out["aiohttp.web.RouteDef"] = public(aiohttp.web.get("/", _handler))
    out["aiohttp.web.StaticDef"] = public(aiohttp.web.static("/s", "."))
    return out


async def _handler(request: Any) -> Any:
    return None


def main() -> None:
    data: dict[str, Any] = {"aiohttp_version": aiohttp.__version__, "classes": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module in (aiohttp, aiohttp.web):
            for name in sorted(module.__all__):
                obj = getattr(module, name)
                if inspect.isclass(obj):
                    data["classes"][f"{module.__name__}.{name}"] = _class(obj)
        data["instances"] = asyncio.run(_instances())
    path = pathlib.Path(__file__).with_name("aiohttp_surface.json")
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{path}: {len(data['classes'])} classes, {len(data['instances'])} instances")


if __name__ == "__main__":
    main()
