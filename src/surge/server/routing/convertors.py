"""Typed path parameters: ``{id:int}``, ``{x:float}``, ``{u:uuid}``, ``{p:path}``, ``{s:str}``.

A convertor is a regex, a function turning the matched text into a Python value, and one
turning a value back into text for ``url_for``. Any other ``{name:...}`` text is a regex.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CONVERTORS", "Convertor"]


@dataclass(frozen=True, slots=True)
class Convertor:
    regex: str
    convert: Callable[[str], Any]
    to_string: Callable[[Any], str] = str


def _float_to_string(value: Any) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


CONVERTORS: dict[str, Convertor] = {
    "str": Convertor(r"[^{}/]+", str),
    "int": Convertor(r"-?[0-9]+", int, lambda v: str(int(v))),
    "float": Convertor(r"-?[0-9]+(?:\.[0-9]+)?", float, _float_to_string),
    "uuid": Convertor(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        uuid.UUID,
    ),
    "path": Convertor(r".*", str),
}
