"""UrlDispatcher unit tests: resolution order, 404/405, names, url_for, freezing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surge import web
from surge.server.routing.router import UrlDispatcher


async def handler(request: web.Request) -> web.Response:
    return web.Response(text="x")


async def other(request: web.Request) -> web.Response:
    return web.Response(text="y")


def test_plain_dynamic_typed_and_regex() -> None:
    router = UrlDispatcher()
    router.add_get("/users", handler)
    router.add_get("/users/{user_id:int}", handler)
    router.add_get("/f/{x:float}", handler)
    router.add_get("/u/{u:uuid}", handler)
    router.add_get("/p/{p:path}", handler)
    router.add_get("/files/{name:[a-z]+}", handler)
    assert router.resolve_path("GET", "/users").route.resource is router.resources()[0]
    match = router.resolve_path("GET", "/users/42")
    assert match == {"user_id": 42} and isinstance(match["user_id"], int)
    assert router.resolve_path("GET", "/users/-3") == {"user_id": -3}
    assert router.resolve_path("GET", "/users/abc").http_exception.status == 404  # type: ignore[union-attr]
    assert router.resolve_path("GET", "/f/2.5") == {"x": 2.5}
    value = uuid.uuid4()
    assert router.resolve_path("GET", f"/u/{value}") == {"u": value}
    assert router.resolve_path("GET", "/p/a/b/c.txt") == {"p": "a/b/c.txt"}
    assert router.resolve_path("GET", "/files/abc") == {"name": "abc"}
    assert router.resolve_path("GET", "/files/ABC").http_exception is not None


def test_default_value_makes_last_segment_optional() -> None:
    router = UrlDispatcher()
    router.add_get("/users/{user_id:int=1}", handler, name="user")
    for path in ("/users", "/users/"):
        assert router.resolve_path("GET", path) == {"user_id": 1}
    assert router.resolve_path("GET", "/users/7") == {"user_id": 7}
    assert str(router["user"].url_for()) == "/users/1"
    assert str(router["user"].url_for(user_id=9)) == "/users/9"
    with pytest.raises(ValueError):
        router.add_get("/a/{x:int=1}/b", handler)


def test_405_allow_sorted_and_later_resource_takes_method() -> None:
    router = UrlDispatcher()
    router.add_get("/r", handler)
    router.add_put("/r", handler)
    match = router.resolve_path("DELETE", "/r")
    exc = match.http_exception
    assert exc is not None and exc.status == 405
    assert exc.headers["Allow"] == "GET,HEAD,PUT"
    # A dynamic resource answering GET only does not hide a later one answering POST.
    router.add_get("/items/{id}", handler)
    router.add_post("/items/{id}", other, name="post_item")
    assert router.resolve_path("POST", "/items/3").route.handler is other


def test_first_registered_wins_within_a_prefix() -> None:
    router = UrlDispatcher()
    router.add_get("/a/{x}", handler)
    router.add_get("/a/{y}", other)
    assert router.resolve_path("GET", "/a/1").route.handler is handler
    # A more specific literal prefix is looked up first (aiohttp 3.9+ order).
    router.add_get("/{anything}", handler)
    router.add_get("/plain", other)
    assert router.resolve_path("GET", "/plain").route.handler is other


def test_head_registered_with_get_unless_disabled() -> None:
    router = UrlDispatcher()
    router.add_get("/a", handler)
    router.add_get("/b", handler, allow_head=False)
    assert router.resolve_path("HEAD", "/a").http_exception is None
    exc = router.resolve_path("HEAD", "/b").http_exception
    assert exc is not None and exc.status == 405
    assert exc.headers["Allow"] == "GET"
    assert sorted(r.method for r in router.routes()) == ["GET", "GET", "HEAD"]


def test_names_mapping_and_validation() -> None:
    router = UrlDispatcher()
    router.add_get("/api", handler, name="api")
    router.add_get("/users/{user_id}", handler, name="user-detail.v1")
    assert len(router) == 2
    assert "api" in router and "nope" not in router
    assert router["api"] is router.get("api")
    assert router.get("missing") is None
    assert set(router.named_resources()) == {"api", "user-detail.v1"}
    assert len(router.resources()) == 2
    with pytest.raises(ValueError):
        router.add_get("/x", handler, name="api")
    for bad in ("1abc", "with space", "class", "a..b"):
        with pytest.raises(ValueError):
            router.add_get("/bad", handler, name=bad)


def test_url_for_encoding_and_query() -> None:
    router = UrlDispatcher()
    router.add_get("/users/{user_id}", handler, name="user")
    router.add_get("/files/{p:path}", handler, name="file")
    router.add_get("/plain", handler, name="plain")
    assert str(router["user"].url_for(user_id=42)) == "/users/42"
    assert str(router["user"].url_for(user_id="a b/c?d")) == "/users/a%20b%2Fc%3Fd"
    assert str(router["file"].url_for(p="a/b c.txt")) == "/files/a/b%20c.txt"
    url = router["plain"].url_for().with_query({"q": "a b", "n": 1})
    assert str(url) == "/plain?q=a+b&n=1"


def test_frozen_router_refuses_registration() -> None:
    router = UrlDispatcher()
    router.add_get("/a", handler)
    router.freeze()
    with pytest.raises(RuntimeError):
        router.add_get("/b", handler)
    with pytest.raises(RuntimeError):
        router.add_get("/a", handler)  # even on the last resource's own path


def test_decorator_vs_lookup() -> None:
    app = web.Application()

    @app.router.get("/users/{user_id:int}", name="user")
    async def get_user(request: web.Request) -> web.Response:
        return web.Response()

    @app.router.post("/users")
    async def create(request: web.Request) -> web.Response:
        return web.Response()

    assert get_user.__name__ == "get_user"  # the decorator returns the function
    assert app.router.get("user") is app.router["user"]
    assert {r.method for r in app.router.routes()} == {"GET", "HEAD", "POST"}


def test_plain_path_does_not_scan_other_resources() -> None:
    router = UrlDispatcher()
    calls: list[str] = []

    def spy(resource: Any) -> None:
        original = resource._resolve

        def counting(method: str, path: str) -> Any:
            calls.append(resource.canonical)
            return original(method, path)

        resource._resolve = counting

    for i in range(50):
        router.add_get(f"/dyn{i}/{{x}}", handler)
        router.add_get(f"/plain{i}", handler)
    for resource in router.resources():
        spy(resource)
    router.freeze()
    assert router.resolve_path("GET", "/plain37").http_exception is None
    assert calls == ["/plain37"]
    calls.clear()
    assert router.resolve_path("GET", "/dyn12/abc") == {"x": "abc"}
    assert calls == ["/dyn12/{x}"]
    calls.clear()
    assert router.resolve_path("GET", "/nothing/here").http_exception is not None
    assert calls == []


def test_a_miss_on_a_deep_path_looks_up_a_bounded_number_of_prefixes() -> None:
    router = web.UrlDispatcher()

    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    router.add_get("/a/b/{x}", handler)
    router.add_get("/plain", handler)
    router.resolve_path("GET", "/warm-up")
    looked_up: list[str] = []

    class RecordingIndex(dict):  # type: ignore[type-arg]
        def get(self, key: str, default: object = None) -> object:
            looked_up.append(key)
            return super().get(key, default)

    router._index = RecordingIndex(router._index)
    assert router.resolve_path("GET", "/a" * 4000).http_exception.status == 404
    # The exact path, its parent (where "/prefix/{name}" routes sit), then the prefixes no
    # deeper than the deepest route's: a fixed number of lookups however deep the path.
    assert looked_up == ["/a" * 4000, "/a" * 3999, "/a/a", "/a", "/"]
    assert isinstance(router.resolve_path("GET", "/a/b/c"), web.UrlMappingMatchInfo)
    assert router.resolve_path("GET", "/a/b/c").get("x") == "c"
    assert router.resolve_path("GET", "/" * 8000).http_exception.status == 404


def test_the_parent_shortcut_keeps_precedence_and_405() -> None:
    router = web.UrlDispatcher()

    async def first(request: web.Request) -> web.Response:
        return web.Response(text="first")

    async def second(request: web.Request) -> web.Response:
        return web.Response(text="second")

    router.add_get("/u/{id:int}", first)  # registered first: wins where both match
    router.add_get("/u/{name}", second)
    router.add_post("/p/{x}", first)
    router.add_get("/{anything}/{rest}", second)
    assert router.resolve_path("GET", "/u/7").route.handler is first
    assert router.resolve_path("GET", "/u/bob").route.handler is second
    # A parent with a resource for another method: the shorter prefixes still answer GET.
    assert router.resolve_path("GET", "/p/1").route.handler is second
    assert router.resolve_path("POST", "/p/1").route.handler is first
    assert router.resolve_path("PUT", "/p/1").http_exception.status == 405


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab/{}% \n\u00e9", max_size=12))
def test_last_segment_routes_match_as_their_regex_does(tail: str) -> None:
    """ "/prefix/{name}" skips the regex; it must accept exactly what the regex would."""
    from surge.server.routing.resources import DynamicResource

    for spec in ("{x}", "{x:str}"):
        resource = DynamicResource("/p/q/" + spec)
        assert resource._tail == ("/p/q/", "x")
        resource.add_route("GET", _handler)
        path = "/p/q/" + tail
        expected = resource._pattern.fullmatch(path)
        match = resource._resolve("GET", path)[0]
        if expected is None:
            assert match is None
        else:
            assert match is not None and dict(match) == expected.groupdict()
    # Anything else keeps the regex.
    for path in ("/p/{x}/r", "/p/{x:int}", "/p/{x:[a-z]+}", "/p/{x=1}", "/p-{x}", "/p/{x}{y}"):
        try:
            assert DynamicResource(path)._tail is None, path
        except ValueError:
            pass


async def _handler(request: web.Request) -> web.Response:
    return web.Response()
