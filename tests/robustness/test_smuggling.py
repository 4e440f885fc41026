"""Request smuggling vectors: a second request hidden in a body is never handled."""

from __future__ import annotations

import pytest

from tests.robustness.util import exchange, request, serve_recording, statuses

SMUGGLED = request("/smuggled")
H = b"POST /front HTTP/1.1\r\nHost: t\r\n"

VECTORS = {
    "cl-te": H
    + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % (5 + len(SMUGGLED))
    + SMUGGLED,
    "te-cl": H
    + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n%x\r\n" % len(SMUGGLED)
    + SMUGGLED
    + b"\r\n0\r\n\r\n",
    "te-obs-fold": H
    + b"Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
    + SMUGGLED,
    "te-space-before-colon": H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "te-vertical-tab": H + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "te-chunked-identity": H + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "te-xchunked": H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "te-duplicated": H
    + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n"
    + SMUGGLED,
    "te-in-http10": b"POST /front HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "cl-comma-list": H + b"Content-Length: 0, %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED,
    "chunk-size-overflow": H
    + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF1\r\n"
    + SMUGGLED
    + b"\r\n0\r\n\r\n",
    "chunk-lf-only": H + b"Transfer-Encoding: chunked\r\n\r\n0\n\n" + SMUGGLED,
}


@pytest.mark.parametrize("name", list(VECTORS))
async def test_smuggling_vector_yields_no_second_request(name: str) -> None:
    async with serve_recording() as (port, rec):
        received, closed = await exchange(port, VECTORS[name])
    assert "/smuggled" not in rec.paths
    assert rec.paths == []
    assert statuses(received) == [400]
    assert closed


async def test_tab_before_chunked_is_valid_and_decoded() -> None:
    """OWS may be a tab: this is one chunked request, then the next one."""
    async with serve_recording() as (port, rec):
        data = H + b"Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n" + request("/next")
        received, closed = await exchange(port, data, timeout=0.5)
    assert rec.paths == ["/front", "/next"]
    assert statuses(received) == [200, 200]
    assert not closed
