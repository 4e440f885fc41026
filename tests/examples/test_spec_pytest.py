"""The spec's pytest-aiohttp example, run as a user's test module in a pytester sandbox (a child
pytest process) whose conftest installs the aiohttp alias and loads surge's pytest plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.examples.local_server import Seen, json_reply, local_server

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).parent / "spec"

CONFTEST = """
from importlib.metadata import entry_points

from surge.compat import alias

alias.install()
# Installed surge registers the plugin through its entry point; a bare checkout loads it here.
if not any(ep.name == "surge" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["surge.pytest_plugin"]
"""


def run_example(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, api: str) -> Any:
    monkeypatch.setenv("PYTHONPATH", f"{ROOT / 'src'}:{ROOT}")
    pytester.makeconftest(CONFTEST)
    source = (SPEC / "pytest_fixtures.py").read_text()
    pytester.makepyfile(test_spec_fixtures=source.replace("https://api.example.com", api))
    # pytest-asyncio (installed for another test) plays no part in the spec's example.
    return pytester.runpytest_subprocess(
        "-W", "error", "-p", "no:cacheprovider", "-p", "no:asyncio", "-v"
    )


def test_pytest_aiohttp_fixtures_example(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with local_server({"/": lambda seen: json_reply(b'{"ok": true}')}) as api:
        result = run_example(pytester, monkeypatch, api.url)
        assert [(s.method, s.path) for s in api.seen] == [("GET", "/")]
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_user_creation PASSED*",
            "*test_user_retrieval PASSED*",
            "*test_cleanup PASSED*",
        ]
    )


def test_pytest_example_cleanup_test_fails_on_a_server_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example's assertions are live: a 500 from the API fails test_cleanup."""

    def broken(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return 500, {"Content-Type": "application/json"}, json.dumps({"ok": False}).encode()

    with local_server({"/": broken}) as api:
        result = run_example(pytester, monkeypatch, api.url)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_cleanup FAILED*"])
