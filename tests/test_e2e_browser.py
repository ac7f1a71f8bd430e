"""End to end in a real headless Chromium: widget, bot, escalation, console, agent reply, hand back."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import Gateway, database_url, gateway_config, running_gateway
from tests.stack import Stack

pytestmark = pytest.mark.asyncio
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 30_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}; .ci/run installs it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def web(stack: Stack, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_config(database_url("sqlite", tmp_path), stack)) as gw:
        yield gw


async def customer_says(page: Page, text: str) -> None:
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")


async def test_customer_agent_and_bot_in_the_browser(browser: Browser, web: Gateway) -> None:
    expect.set_options(timeout=TIMEOUT)
    shop = await (await browser.new_context()).new_page()
    await shop.goto(f"{web.url}/")
    await shop.click("#chat-toggle")
    log = shop.locator("#chat-log")

    await customer_says(shop, "where is my order 80000005")
    await expect(log).to_contain_text("email address or phone number on order 80000005")
    await customer_says(shop, "li.wei@example.com")
    await expect(log).to_contain_text("Order 80000005")
    await expect(log).to_contain_text("Bluetooth speaker")

    await customer_says(shop, "I want to talk to a human")
    await expect(shop.locator("#chat-status")).to_have_text("Waiting for an agent")
    conversation = await shop.evaluate("JSON.parse(localStorage.getItem('shopdesk.conversation')).conversation_id")

    console = await (await browser.new_context()).new_page()
    await console.goto(f"{web.url}/agent")
    await console.fill("#username", "alice")
    await console.fill("#password", "alice-demo")
    await console.click("#login button")
    row = console.locator(f'#queue li[data-id="{conversation}"]')
    await expect(row).to_contain_text("customer_request")
    await row.click()
    await expect(console.locator("#order")).to_contain_text("Li Wei")
    await console.click("#claim")
    await expect(console.locator("#d-meta")).to_contain_text("assigned")
    await console.fill("#reply-text", "Hi, this is Alice. <img src=x onerror=window.pwned=1>")
    await console.press("#reply-text", "Enter")

    agent_line = shop.locator("#chat-log .msg.agent")
    await expect(agent_line).to_contain_text("Hi, this is Alice. <img src=x onerror=window.pwned=1>")
    await expect(shop.locator("#chat-status")).to_have_text("Agent")
    assert await shop.locator("#chat-log img").count() == 0
    assert await shop.evaluate("window.pwned === undefined")

    await shop.reload()  # the conversation survives a reload
    await shop.click("#chat-toggle")
    await expect(shop.locator("#chat-log .msg.agent")).to_contain_text("Hi, this is Alice.")

    console.once("dialog", lambda dialog: dialog.accept("checked the parcel with the carrier"))
    await console.click("#handback")
    await expect(shop.locator("#chat-status")).to_have_text("Assistant")
    await expect(log).to_contain_text("checked the parcel with the carrier")
    await customer_says(shop, "where is my order 80000011")
    await expect(log).to_contain_text("Order 80000011")
