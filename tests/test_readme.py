"""The README's server and client examples work together as written."""

from __future__ import annotations

import asyncio
import contextlib
import io
import pathlib
import re

from tests.helpers import serve

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> dict[str, str]:
    text = README.read_text()
    sections = re.findall(
        r"## (A server in ten lines|A client in ten lines)\n\n```python\n(.*?)```", text, re.S
    )
    return dict(sections)


async def test_readme_server_and_client() -> None:
    blocks = _blocks()
    server_ns: dict[str, object] = {"__name__": "readme_server"}
    exec(blocks["A server in ten lines"], server_ns)
    async with serve(server_ns["app"]) as url:  # type: ignore[arg-type]
        client_code = blocks["A client in ten lines"].replace("http://127.0.0.1:8080", url)
        client_code = client_code.replace("asyncio.run(main())", "")
        client_ns: dict[str, object] = {"__name__": "readme_client"}
        exec(client_code, client_ns)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            await client_ns["main"]()  # type: ignore[operator]
    assert out.getvalue().strip() == "{'hello': 'world'}"
    assert asyncio.iscoroutinefunction(client_ns["main"])
