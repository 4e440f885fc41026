"""surge's JSON fast path produces exactly what ``json.dumps`` does."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surge.util.jsonfast import dumps

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_same_output_as_json_dumps(value: object) -> None:
    assert dumps(value) == json.dumps(value)


def test_special_cases() -> None:
    assert dumps({"é": "ü", "n": [1, 2.5, None, True]}) == json.dumps(
        {"é": "ü", "n": [1, 2.5, None, True]}
    )
    assert dumps(math.inf) == "Infinity"
    assert dumps((1, 2)) == "[1, 2]"
    assert dumps({1: "int key"}) == '{"1": "int key"}'
    assert dumps("just a string") == '"just a string"'


def test_errors_match_json_dumps() -> None:
    circular: list[object] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(circular)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"x": object()})
    # the encoder stays usable after an error
    assert dumps({"a": 1}) == '{"a": 1}'


def test_too_deep_nesting_raises_recursion_error_as_json_dumps_does() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        json.dumps(deep)
    with pytest.raises(RecursionError):
        dumps(deep)
    assert dumps([[1]]) == "[[1]]"
