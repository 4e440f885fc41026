"""Sub-applications mounted under a prefix or a domain."""

from __future__ import annotations

from typing import Any

__all__ = ["add_domain", "add_subapp"]


def add_subapp(app: Any, prefix: str, subapp: Any) -> Any:
    raise NotImplementedError("sub-applications arrive with the routing work")


def add_domain(app: Any, domain: str, subapp: Any) -> Any:
    raise NotImplementedError("domain sub-applications arrive with the routing work")
