"""``surge.compat.alias``: ``import aiohttp`` and its submodules resolve to surge."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import surge
import surge.templates
import surge.test_utils
import surge.web
from surge.compat import alias as alias_module

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}

SUBMODULES = [
    "abc",
    "client",
    "client_exceptions",
    "client_reqrep",
    "client_ws",
    "connector",
    "cookiejar",
    "formdata",
    "hdrs",
    "helpers",
    "http",
    "http_exceptions",
    "http_websocket",
    "log",
    "multipart",
    "payload",
    "pytest_plugin",
    "resolver",
    "signals",
    "streams",
    "test_utils",
    "tracing",
    "typedefs",
    "web",
    "web_app",
    "web_exceptions",
    "web_fileresponse",
    "web_log",
    "web_middlewares",
    "web_protocol",
    "web_request",
    "web_response",
    "web_routedef",
    "web_runner",
    "web_server",
    "web_urldispatcher",
    "web_ws",
]


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)]
        if not args
        else [sys.executable, *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=False,
    )


def test_import_aiohttp_gives_surge(alias: None) -> None:
    import aiohttp
    from aiohttp import web

    assert aiohttp.ClientSession is surge.ClientSession
    assert web is surge.web
    assert aiohttp.web is surge.web
    assert web.Application is surge.web.Application


def test_submodule_imports(alias: None) -> None:
    import importlib

    from aiohttp.test_utils import TestClient
    from aiohttp.web_exceptions import HTTPNotFound

    assert HTTPNotFound is surge.web.HTTPNotFound
    assert TestClient is surge.test_utils.TestClient
    for name in SUBMODULES:
        module = importlib.import_module(f"aiohttp.{name}")
        assert module.__name__.startswith("surge."), name
        for exported in getattr(module, "__all__", ()):
            assert hasattr(module, exported), f"aiohttp.{name}.{exported}"


def test_aiohttp_jinja2_is_surge_templates(alias: None) -> None:
    import aiohttp_jinja2

    assert aiohttp_jinja2 is surge.templates


def test_unknown_submodule_is_an_import_error(alias: None) -> None:
    with pytest.raises(ModuleNotFoundError):
        import aiohttp.no_such_module  # noqa: F401


def test_uninstall_forgets_the_alias() -> None:
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if alias_module._aliased(n)}
    try:
        alias_module.install()
        import aiohttp

        assert aiohttp.ClientSession is surge.ClientSession
        alias_module.uninstall()
        assert "aiohttp" not in sys.modules
        assert not alias_module.installed()
    finally:
        alias_module.uninstall()
        sys.modules.update(saved)


def test_alias_takes_precedence_over_an_installed_aiohttp() -> None:
    # The test venv has the real aiohttp (for benchmarks); the alias must still win.
    result = _run(
        """
        import importlib.util, surge
        assert importlib.util.find_spec("aiohttp") is not None  # the real one is installed
        from surge.compat.alias import install
        install()
        import aiohttp, aiohttp.web
        from aiohttp.web_exceptions import HTTPNotFound
        assert aiohttp.ClientSession is surge.ClientSession, aiohttp.__file__
        assert HTTPNotFound.__module__.startswith("surge.")
        print("OK", aiohttp.__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK surge.compat.aiohttp"


def test_install_refuses_after_real_aiohttp_was_imported() -> None:
    pytest.importorskip("aiohttp")  # the real package; skip where it is not installed
    result = _run(
        """
        import aiohttp
        from surge.compat.alias import AliasError, install
        try:
            install()
        except AliasError as exc:
            print("refused:", exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "refused: the real aiohttp is already imported" in result.stdout
    assert "before anything imports aiohttp" in result.stdout


SCRIPT = """
import sys
import aiohttp
from aiohttp import web
print(aiohttp.__name__, web.__name__, sys.argv[1:])
"""


def test_python_dash_m_form(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    result = _run("", "-m", "surge.compat.alias", str(script), "--flag", "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "surge.compat.aiohttp surge.web ['--flag', 'x']"


def test_surge_run_aiohttp_flag(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    result = _run("", "-m", "surge", "run", "--aiohttp", str(script), "--flag")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "surge.compat.aiohttp surge.web ['--flag']"
