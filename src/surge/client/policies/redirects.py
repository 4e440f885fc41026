"""Following redirects, as an I/O-free generator: ``response = yield request``.

The driver sends each request the policy yields and sends back the response; the policy
returns when the response is final. Rules: 301/302 turn a POST into a GET, 303 turns anything
but HEAD into a GET, dropping the body; 307/308 keep method and body (a streamed body cannot
be replayed, so the redirect is not followed). ``Authorization`` is dropped when the origin
changes; a target that is not http(s) is refused.

The limit counts redirect responses, as aiohttp 3.x does: the ``max_redirects``-th redirect is
not followed but raises :class:`TooManyRedirects`, so ``history`` holds exactly
``max_redirects`` responses and at most ``max_redirects - 1`` redirects succeed. The error
describes the original request (its ``request_info``) with status 0 and no headers.
``max_redirects=0`` sets no limit (aiohttp's reading of a falsy limit); the session's total
timeout then bounds a redirect loop.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from surge.client.exceptions import (
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
    TooManyRedirects,
)
from surge.client.payload import EMPTY
from surge.client.request import ClientRequest, RequestInfo

__all__ = ["REDIRECT_STATUSES", "follow_redirects"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding")


class RedirectResponse(Protocol):
    status: int
    reason: str

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...
    @property
    def request_info(self) -> RequestInfo: ...
    @property
    def url(self) -> URL: ...


def _origin(url: URL) -> tuple[str | None, str | None, int | None]:
    return url.scheme, url.host, url.port


def next_request(request: ClientRequest, response: RedirectResponse) -> ClientRequest | None:
    """The request a redirect response asks for, or None when it is not to be followed."""
    status = response.status
    if status not in REDIRECT_STATUSES:
        return None
    location = response.headers.get("Location") or response.headers.get("URI")
    if not location:
        return None
    method = request.method
    payload = request.payload
    headers = CIMultiDict(request.headers)
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
        payload = EMPTY
        for name in _BODY_HEADERS:
            headers.popall(name, None)
    elif not payload.replayable:
        return None
    try:
        # requote_redirect_url=False: the Location is sent exactly as the server wrote it.
        requote = getattr(request.session, "_requote_redirect_url", True)
        target = URL(location, encoded=not requote or "%" in location)
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(location, str(exc)) from None
    scheme = target.scheme
    if scheme and scheme not in ("http", "https"):
        raise NonHttpUrlRedirectClientError(location)
    target = response.url.join(target)
    if not target.host:
        raise InvalidUrlRedirectClientError(location, "redirect target has no host")
    if request.original_url.fragment and not target.fragment:
        target = target.with_fragment(request.original_url.fragment)
    auth = request.auth
    if _origin(target) != _origin(request.url):
        headers.popall("Authorization", None)
        auth = None
    headers.popall("Host", None)
    headers.popall("Cookie", None)  # the jar adds the cookies for the new URL
    nxt = type(request)(
        method,
        target,
        headers=headers,
        payload=payload,
        auth=auth,
        ssl=request.ssl,
        server_hostname=None,
        compress=request.compress,
        chunked=request.chunked,
        expect100=request.expect100,
    )
    nxt.carry_from(request)
    return nxt


def follow_redirects(
    request: ClientRequest, max_redirects: int = 10
) -> Generator[ClientRequest, Any, None]:
    """Yield ``request``, then each redirect's target, until a final response comes back."""
    history: list[Any] = []
    while True:
        response = yield request
        nxt = next_request(request, response)
        if nxt is None:
            return
        history.append(response)
        if max_redirects and len(history) >= max_redirects:
            raise TooManyRedirects(history[0].request_info, tuple(history))
        request = nxt
