"""The layering of ARCHITECTURE.md: imports point one way only."""

from __future__ import annotations

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "surge"
LAYERS = {"http": 0, "net": 1, "server": 2, "client": 2}


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_http_core_never_imports_asyncio() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in (SRC / "http").rglob("*.py")
        if any(n == "asyncio" or n.startswith("asyncio.") for n in _imports(p))
    ]
    assert offenders == []


def test_lower_layers_never_import_higher_ones() -> None:
    problems = []
    for package, level in LAYERS.items():
        for path in (SRC / package).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] != "surge" or len(parts) < 2:
                    continue
                target = parts[1]
                if target in LAYERS and LAYERS[target] > level:
                    problems.append(f"{path.relative_to(SRC)} imports {name}")
                if {package, target} == {"server", "client"}:
                    problems.append(f"{path.relative_to(SRC)} imports {name}")
                if target in {"web", "testing", "compat"}:
                    problems.append(f"{path.relative_to(SRC)} imports {name}")
    assert problems == []
