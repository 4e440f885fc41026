"""Headless Chromium (driven by Playwright) loads the demo's live page: WebSocket messages and
Server-Sent Events arrive in a real browser."""

from __future__ import annotations

import os
import shutil

import pytest
from examples.demo.app import create_app

from tests.conftest import require_tool
from tests.helpers import serve

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    return path or require_tool("chromium")


async def test_demo_live_page_in_chromium() -> None:
    executable = chromium()
    playwright_api = pytest.importorskip("playwright.async_api")
    async with serve(create_app()) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(base + "/live")
            await page.wait_for_selector("body[data-ws=open]", timeout=10_000)
            await page.fill("#text", "hello from chromium")
            await page.click("button")
            await page.wait_for_selector("#messages li", timeout=10_000)
            assert await page.inner_text("#messages li") == "Echo: hello from chromium"
            # Two clock ticks, in order, with their event ids.
            await page.wait_for_function(
                "document.querySelectorAll('#events li').length >= 2", timeout=10_000
            )
            ticks = await page.locator("#events li").all_inner_texts()
            assert ticks[0].startswith("tick 1: ")
            assert ticks[1].startswith("tick 2: ")
        finally:
            await browser.close()
