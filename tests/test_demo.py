"""The demo app that ``make run`` serves answers its pages."""

from __future__ import annotations

import httpx
from examples.demo.app import create_app

from tests.helpers import serve


async def test_demo_pages() -> None:
    async with serve(create_app()) as url, httpx.AsyncClient(base_url=url) as client:
        home = await client.get("/")
        assert home.status_code == 200
        assert 'href="/users/42"' in home.text
        assert (await client.get("/users/42")).json() == {"id": 42, "type": "int"}
        assert (await client.get("/hello/world")).text == "Hello, world!"
        posted = await client.post("/form", data={"username": "ann", "password": "x"})
        assert posted.json() == {"received": {"username": "ann", "password": "x"}}
        assert (await client.get("/stream")).text == "".join(f"line {i}\n" for i in range(5))
