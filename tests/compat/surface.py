"""Compute what surge lacks of aiohttp 3.14's public surface (data/aiohttp_surface.json)."""

from __future__ import annotations

import asyncio
import inspect
import json
import pathlib
import warnings
from typing import Any

import surge
import surge.web

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "aiohttp_surface.json").read_text())
MODULES = {"aiohttp": surge, "aiohttp.web": surge.web}


def _surge_object(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    return getattr(MODULES[module], name, None)


def _signature(obj: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def _forwards(sig: inspect.Signature) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def _declared(cls: type) -> set[str]:
    """Instance attributes a class declares without a class attribute: annotations, dataclass
    and NamedTuple fields."""
    names: set[str] = set(getattr(cls, "__dataclass_fields__", ()))
    names.update(getattr(cls, "_fields", ()))
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
    return names


def class_gaps() -> set[str]:
    """``Class(param)``, ``Class.attr`` and ``Class.method(param)`` aiohttp has and surge lacks."""
    gaps: set[str] = set()
    for qualname, spec in DATA["classes"].items():
        ours = _surge_object(qualname)
        if ours is None:
            gaps.add(qualname)
            continue
        if spec["params"] is not None:
            sig = _signature(ours)
            # A constructor taking **kwargs is not trusted to accept everything (ClientSession
            # rejects unknown names); only named parameters count.
            names = set(sig.parameters) if sig is not None else set()
            gaps.update(
                f"{qualname}({p})"
                for p in spec["params"]
                if p not in names and not p.startswith("_")
            )
        declared = _declared(ours)
        live = set(DATA["instances"].get(qualname, ()))  # checked on an instance instead
        for attr in spec["attrs"]:
            if not hasattr(ours, attr) and attr not in declared and attr not in live:
                gaps.add(f"{qualname}.{attr}")
        for method, params in spec["methods"].items():
            impl = getattr(ours, method, None)
            sig = _signature(impl) if impl is not None else None
            if sig is None or _forwards(sig):
                continue  # missing (counted above) or forwarding its keywords
            gaps.update(f"{qualname}.{method}({p})" for p in params if p not in sig.parameters)
    return gaps


async def _surge_instances() -> dict[str, object]:
    out: dict[str, object] = {}
    async with surge.ClientSession() as session:
        out["aiohttp.ClientSession"] = session
    connector = surge.TCPConnector()
    out["aiohttp.TCPConnector"] = connector
    await connector.close()
    unix = surge.UnixConnector("/nonexistent")
    out["aiohttp.UnixConnector"] = unix
    await unix.close()
    out["aiohttp.ClientTimeout"] = surge.ClientTimeout()
    out["aiohttp.BasicAuth"] = surge.BasicAuth("u", "p")
    out["aiohttp.CookieJar"] = surge.CookieJar()
    out["aiohttp.FormData"] = surge.FormData()
    out["aiohttp.TraceConfig"] = surge.TraceConfig()
    app = surge.web.Application()
    out["aiohttp.web.Application"] = app
    out["aiohttp.web.UrlDispatcher"] = app.router
    out["aiohttp.web.Response"] = surge.web.Response()
    out["aiohttp.web.StreamResponse"] = surge.web.StreamResponse()
    out["aiohttp.web.WebSocketResponse"] = surge.web.WebSocketResponse()
    out["aiohttp.web.RouteDef"] = surge.web.get("/", _handler)
    out["aiohttp.web.StaticDef"] = surge.web.static("/s", ".")
    return out


async def _handler(request: Any) -> Any:
    return None


def instance_gaps() -> set[str]:
    """``<instance of Class>.attr`` for the attributes a live aiohttp object has and surge's lacks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        instances = asyncio.run(_surge_instances())
    assert set(instances) == set(DATA["instances"])
    gaps: set[str] = set()
    for label, attrs in DATA["instances"].items():
        obj = instances[label]
        present = set(dir(obj))
        gaps.update(f"<{label}>.{a}" for a in attrs if a not in present)
    return gaps
