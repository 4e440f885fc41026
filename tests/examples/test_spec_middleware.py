"""The spec's JWT, logging/CORS/rate-limit middleware and logging set-up, run with the aiohttp
alias and checked with httpx."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.examples.loader import load
from tests.helpers import serve


def _token(secret: str, **claims: object) -> str:
    return jwt.encode({"sub": "ada", "aud": "your-audience", **claims}, secret, algorithm="HS256")


async def test_jwt_auth_middleware() -> None:
    ns = load("jwt_auth")
    from surge import web

    secret = ns["JWT_SECRET"]

    async def me(request: web.Request) -> web.Response:
        return web.json_response(request["user"])

    app = web.Application(middlewares=[ns["jwt_auth_middleware"]])
    app.router.add_get("/me", me)
    app.router.add_get("/health", lambda r: web.Response(text="up"))
    valid = _token(secret, exp=int(time.time()) + 600)
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/health")).text == "up"  # public, no token needed
        r = await client.get("/me", headers={"Authorization": f"Bearer {valid}"})
        assert r.status_code == 200
        assert r.json()["sub"] == "ada"
        r = await client.get("/me")
        assert (r.status_code, r.json()) == (401, {"error": "Missing Authorization header"})
        r = await client.get("/me", headers={"Authorization": f"Basic {valid}"})
        assert r.status_code == 401
        expired = _token(secret, exp=int(time.time()) - 60)
        r = await client.get("/me", headers={"Authorization": f"Bearer {expired}"})
        assert (r.status_code, r.json()) == (401, {"error": "Token expired"})
        for bad in (
            "not.a.jwt",
            _token("another-secret-of-at-least-32-bytes!!"),  # wrong signature
            _token(secret, aud="someone-else"),  # wrong audience
        ):
            r = await client.get("/me", headers={"Authorization": f"Bearer {bad}"})
            assert (r.status_code, r.json()) == (403, {"error": "Invalid token"})
        # '/public/*' is a literal prefix in the example, so /public/x still needs a token.
        assert (await client.get("/public/x")).status_code == 401
    # The helper checks signature and expiry (it passes no audience, so tokens without one).
    no_aud = jwt.encode({"sub": "ada"}, secret, algorithm="HS256")
    assert ns["verify_token"](no_aud) is True
    assert ns["verify_token"]("garbage") is False


async def test_common_middleware_patterns(caplog: pytest.LogCaptureFixture) -> None:
    ns = load("common_middleware")
    from surge import web

    app = web.Application(
        middlewares=[ns["log_middleware"], ns["cors_middleware"], ns["rate_limit_middleware"]]
    )
    app.router.add_get("/items", lambda r: web.Response(text="items"))
    caplog.set_level(logging.INFO, logger="spec.requests")
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        for _ in range(3):
            r = await client.get("/items")
            assert (r.status_code, r.text) == (200, "items")
            assert r.headers["access-control-allow-origin"] == "*"
            assert r.headers["access-control-allow-methods"] == "GET, POST, PUT, DELETE"
            assert r.headers["access-control-allow-headers"] == "Content-Type, Authorization"
        r = await client.get("/items")  # the fourth from this address
        assert (r.status_code, r.text) == (429, "Rate limited")
        assert r.headers["access-control-allow-origin"] == "*"
    records = [rec for rec in caplog.records if rec.name == "spec.requests"]
    assert [rec.getMessage() for rec in records] == ["HTTP request completed"] * 4
    fields = [
        (rec.method, rec.path, rec.status, rec.remote_ip)  # type: ignore[attr-defined]
        for rec in records
    ]
    assert fields == [("GET", "/items", 200, "127.0.0.1")] * 3 + [
        ("GET", "/items", 429, "127.0.0.1")
    ]
    assert all(rec.duration >= 0 for rec in records)  # type: ignore[attr-defined]


async def test_structured_logging_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    logging_ns = load("structured_logging")
    middleware_ns = load("common_middleware")
    from surge import web

    app = web.Application(middlewares=[middleware_ns["log_middleware"]])
    app.router.add_get("/", lambda r: web.Response(text="hi"))
    # basicConfig only configures a root logger without handlers; pytest's are set aside here.
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    root.handlers.clear()
    try:
        logging_ns["setup_logging"](app)
        file_handler, console_handler = root.handlers
        assert root.level == logging.INFO
        async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/")).text == "hi"
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert isinstance(file_handler, logging.FileHandler)
    assert type(console_handler) is logging.StreamHandler
    # The root logger now also records httpx's own lines; the middleware's are ours.
    log = (tmp_path / "app.log").read_text().splitlines()
    lines = [line for line in log if " - spec.requests - " in line]
    assert len(lines) == 1
    # '%(asctime)s - %(name)s - %(levelname)s - %(message)s' with a seconds-precision date.
    stamp, rest = lines[0][:19], lines[0][19:]
    time.strptime(stamp, "%Y-%m-%d %H:%M:%S")
    assert rest == " - spec.requests - INFO - HTTP request completed"
    assert "HTTP request completed\n" in capsys.readouterr().err  # the console: message only
