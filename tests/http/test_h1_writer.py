"""Response head serialisation: the cached single-header prefix and header injection."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from surge.http.h1.writer import response_head_prefix, serialize_response_head


def test_single_header_prefix_is_cached_and_exact() -> None:
    headers = CIMultiDict({"Content-Type": "text/plain; charset=utf-8"})
    first = response_head_prefix((1, 1), 200, "OK", headers)
    assert first == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    assert response_head_prefix((1, 1), 200, "OK", headers) is first
    assert response_head_prefix((1, 0), 200, "OK", headers).startswith(b"HTTP/1.0 200 OK\r\n")


def test_prefix_with_several_headers_keeps_every_value() -> None:
    headers = CIMultiDict([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Id", "7")])
    prefix = response_head_prefix((1, 1), 201, "Created", headers)
    assert prefix == (b"HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Id: 7\r\n")


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b"])
def test_header_injection_is_refused_on_every_path(value: str) -> None:
    with pytest.raises(ValueError, match="forbidden character"):
        response_head_prefix((1, 1), 200, "OK", CIMultiDict({"X-Test": value}))
    with pytest.raises(ValueError, match="forbidden character"):
        response_head_prefix((1, 1), 200, "OK", CIMultiDict({"X-Test": value, "X-Other": "1"}))
    with pytest.raises(ValueError, match="forbidden character"):
        serialize_response_head((1, 1), 200, "OK", [("X-Test", value)])


def test_reason_with_crlf_is_refused() -> None:
    with pytest.raises(ValueError):
        response_head_prefix((1, 1), 200, "OK\r\nX: y", CIMultiDict({"A": "b"}))
