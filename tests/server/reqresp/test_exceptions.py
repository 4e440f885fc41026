"""HTTP exceptions: names, statuses and bases as aiohttp 3.14's, raised or returned."""

from __future__ import annotations

import httpx
import pytest

from surge import web
from tests.helpers import serve

# (name, status_code, direct HTTP* base) for every public HTTPException subclass of aiohttp.web
# 3.14, taken from its classes' status_code and __mro__.
AIOHTTP_CLASSES = [
    ("HTTPException", -1, None),
    ("HTTPSuccessful", -1, "HTTPException"),
    ("HTTPRedirection", -1, "HTTPException"),
    ("HTTPError", -1, "HTTPException"),
    ("HTTPClientError", -1, "HTTPError"),
    ("HTTPServerError", -1, "HTTPError"),
    ("HTTPMove", -1, "HTTPRedirection"),
    ("HTTPOk", 200, "HTTPSuccessful"),
    ("HTTPCreated", 201, "HTTPSuccessful"),
    ("HTTPAccepted", 202, "HTTPSuccessful"),
    ("HTTPNonAuthoritativeInformation", 203, "HTTPSuccessful"),
    ("HTTPNoContent", 204, "HTTPSuccessful"),
    ("HTTPResetContent", 205, "HTTPSuccessful"),
    ("HTTPPartialContent", 206, "HTTPSuccessful"),
    ("HTTPMultipleChoices", 300, "HTTPMove"),
    ("HTTPMovedPermanently", 301, "HTTPMove"),
    ("HTTPFound", 302, "HTTPMove"),
    ("HTTPSeeOther", 303, "HTTPMove"),
    ("HTTPNotModified", 304, "HTTPRedirection"),
    ("HTTPUseProxy", 305, "HTTPMove"),
    ("HTTPTemporaryRedirect", 307, "HTTPMove"),
    ("HTTPPermanentRedirect", 308, "HTTPMove"),
    ("HTTPBadRequest", 400, "HTTPClientError"),
    ("HTTPUnauthorized", 401, "HTTPClientError"),
    ("HTTPPaymentRequired", 402, "HTTPClientError"),
    ("HTTPForbidden", 403, "HTTPClientError"),
    ("HTTPNotFound", 404, "HTTPClientError"),
    ("HTTPMethodNotAllowed", 405, "HTTPClientError"),
    ("HTTPNotAcceptable", 406, "HTTPClientError"),
    ("HTTPProxyAuthenticationRequired", 407, "HTTPClientError"),
    ("HTTPRequestTimeout", 408, "HTTPClientError"),
    ("HTTPConflict", 409, "HTTPClientError"),
    ("HTTPGone", 410, "HTTPClientError"),
    ("HTTPLengthRequired", 411, "HTTPClientError"),
    ("HTTPPreconditionFailed", 412, "HTTPClientError"),
    ("HTTPRequestEntityTooLarge", 413, "HTTPClientError"),
    ("HTTPRequestURITooLong", 414, "HTTPClientError"),
    ("HTTPUnsupportedMediaType", 415, "HTTPClientError"),
    ("HTTPRequestRangeNotSatisfiable", 416, "HTTPClientError"),
    ("HTTPExpectationFailed", 417, "HTTPClientError"),
    ("HTTPMisdirectedRequest", 421, "HTTPClientError"),
    ("HTTPUnprocessableEntity", 422, "HTTPClientError"),
    ("HTTPFailedDependency", 424, "HTTPClientError"),
    ("HTTPUpgradeRequired", 426, "HTTPClientError"),
    ("HTTPPreconditionRequired", 428, "HTTPClientError"),
    ("HTTPTooManyRequests", 429, "HTTPClientError"),
    ("HTTPRequestHeaderFieldsTooLarge", 431, "HTTPClientError"),
    ("HTTPUnavailableForLegalReasons", 451, "HTTPClientError"),
    ("HTTPInternalServerError", 500, "HTTPServerError"),
    ("HTTPNotImplemented", 501, "HTTPServerError"),
    ("HTTPBadGateway", 502, "HTTPServerError"),
    ("HTTPServiceUnavailable", 503, "HTTPServerError"),
    ("HTTPGatewayTimeout", 504, "HTTPServerError"),
    ("HTTPVersionNotSupported", 505, "HTTPServerError"),
    ("HTTPVariantAlsoNegotiates", 506, "HTTPServerError"),
    ("HTTPInsufficientStorage", 507, "HTTPServerError"),
    ("HTTPNotExtended", 510, "HTTPServerError"),
    ("HTTPNetworkAuthenticationRequired", 511, "HTTPServerError"),
]


def test_every_class_matches_aiohttp() -> None:
    ours = {n for n in dir(web) if n.startswith("HTTP") and isinstance(getattr(web, n), type)}
    assert ours == {name for name, _, _ in AIOHTTP_CLASSES}
    for name, status, base in AIOHTTP_CLASSES:
        cls = getattr(web, name)
        assert cls.status_code == status, name
        assert issubclass(cls, web.Response) and issubclass(cls, Exception)
        if base is not None:
            assert cls.__bases__[0] is getattr(web, base), name


def test_default_bodies_and_arguments() -> None:
    exc = web.HTTPNotFound()
    assert exc.text == "404: Not Found" and exc.content_type == "text/plain"
    assert str(exc) == "Not Found" and exc.status == 404
    assert web.HTTPNotFound(reason="Nope").text == "404: Nope"
    assert web.HTTPBadRequest(text="custom").text == "custom"
    assert web.HTTPNoContent().body is None and web.HTTPNotModified().body is None
    found = web.HTTPFound("/new-location")
    assert found.location == "/new-location" and found.headers["Location"] == "/new-location"
    with pytest.raises(ValueError):
        web.HTTPFound("")
    mna = web.HTTPMethodNotAllowed("get", ["POST", "PUT"])
    assert mna.method == "GET" and mna.allowed_methods == {"POST", "PUT"}
    assert mna.headers["Allow"] == "POST,PUT"
    big = web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20)
    assert "10" in big.text and "20" in big.text  # type: ignore[operator]
    legal = web.HTTPUnavailableForLegalReasons("http://example.com/why")
    assert str(legal.link) == "http://example.com/why"
    assert legal.headers["Link"] == '<http://example.com/why>; rel="blocked-by"'
    assert web.HTTPUnavailableForLegalReasons(None).link is None


async def test_raised_and_returned_on_the_wire() -> None:
    async def returned_redirect(request: web.Request) -> web.StreamResponse:
        return web.HTTPFound("/new-location")

    async def returned_401(request: web.Request) -> web.StreamResponse:
        return web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="Login"'})

    async def raised_404(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound()

    async def raised_204(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNoContent(headers={"X-Done": "1"})

    async def raised_304(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotModified()

    async def raised_json(request: web.Request) -> web.StreamResponse:
        raise web.HTTPBadRequest(text='{"error": "bad"}', content_type="application/json")

    app = web.Application()
    for path, handler in {
        "/r": returned_redirect,
        "/u": returned_401,
        "/n": raised_404,
        "/e": raised_204,
        "/m": raised_304,
        "/j": raised_json,
    }.items():
        app.router.add_get(path, handler)
    async with serve(app) as base, httpx.AsyncClient() as client:
        redirect = await client.get(f"{base}/r")
        unauthorized = await client.get(f"{base}/u")
        not_found = await client.get(f"{base}/n")
        no_content = await client.get(f"{base}/e")
        not_modified = await client.get(f"{base}/m")
        bad = await client.get(f"{base}/j")
    assert (redirect.status_code, redirect.headers["location"]) == (302, "/new-location")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"] == 'Basic realm="Login"'
    assert unauthorized.text == "401: Unauthorized"
    assert (not_found.status_code, not_found.text) == (404, "404: Not Found")
    assert (no_content.status_code, no_content.content, no_content.headers["x-done"]) == (
        204,
        b"",
        "1",
    )
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert bad.status_code == 400 and bad.json() == {"error": "bad"}
    assert bad.headers["content-type"].startswith("application/json")
