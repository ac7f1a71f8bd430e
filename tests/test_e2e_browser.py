"""End to end in a real headless Chromium: widget, bot, escalation, console, agent reply, hand back;
in English, simplified and traditional Chinese (the browser's languages, the pages' language switch)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from bot.language import is_traditional
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
HAN = re.compile(r"[\u4e00-\u9fff]")  # a Chinese character


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


async def bot_answers(page: Page, text: str) -> Locator:
    """Says `text` and waits for the bot: its messages after `text` in the log."""
    said = page.locator("#chat-log li.msg.customer").filter(has_text=text)
    before = await said.count()
    await customer_says(page, text)
    await expect(said).to_have_count(before + 1)
    replies = said.last.locator("xpath=following-sibling::li[contains(concat(' ', @class, ' '), ' bot ')]")
    await expect(replies.first).to_be_visible()
    return replies


async def stored_conversation(page: Page) -> tuple[str, str]:
    """The widget's conversation id and customer token, once it has opened one."""
    for _ in range(TIMEOUT // 250):  # polled from here: wait_for_function evaluates strings, which the CSP forbids
        stored = await page.evaluate("JSON.parse(localStorage.getItem('shopdesk.conversation'))")
        if stored:
            return stored["conversation_id"], stored["token"]
        await asyncio.sleep(0.25)
    raise AssertionError("the widget opened no conversation")


async def conversation_language(web: Gateway, conversation: str, token: str, expected: str) -> None:
    """Waits until the gateway reports the conversation in `expected` (the widget tells it asynchronously)."""
    language = None
    for _ in range(TIMEOUT // 250):
        async with web.http.get(
            f"/api/conversations/{conversation}/messages", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            assert resp.status == 200, await resp.text()
            language = (await resp.json())["language"]
        if language == expected:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"the conversation stayed in {language!r}, not {expected!r}")


async def log_in(console: Page, username: str, password: str) -> None:
    await console.fill("#username", username)
    await console.fill("#password", password)
    await console.click("#login button")


async def test_customer_agent_and_bot_in_the_browser(browser: Browser, web: Gateway) -> None:
    expect.set_options(timeout=TIMEOUT)
    shop = await (await browser.new_context(locale="en-US")).new_page()
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

    console = await (await browser.new_context(locale="en-US")).new_page()
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


async def test_chinese_customer_bot_and_console(browser: Browser, web: Gateway) -> None:
    """A browser in simplified Chinese: Chinese widget, Chinese answers, an escalation the console shows in Chinese."""
    expect.set_options(timeout=TIMEOUT)
    shop = await (await browser.new_context(locale="zh-CN")).new_page()
    await shop.goto(f"{web.url}/")
    await expect(shop.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(shop.locator("h1")).to_have_text("演示商店")
    await expect(shop.locator("#chat-toggle")).to_have_text("联系客服")
    await shop.click("#chat-toggle")
    await expect(shop.locator("#chat-input")).to_have_attribute("placeholder", "请输入您的问题")
    await expect(shop.locator("#chat-form button")).to_have_text("发送")
    await expect(shop.locator("#chat-status")).to_have_text("智能助手")
    await expect(shop.locator('#chat [data-lang="zh"]')).to_have_attribute("aria-pressed", "true")
    conversation, token = await stored_conversation(shop)
    await conversation_language(web, conversation, token, "zh")  # opened in the widget's language

    asked = await bot_answers(shop, "我的订单80000005到哪了")
    await expect(asked.first).to_contain_text(HAN)
    answer = await bot_answers(shop, "li.wei@example.com")
    await expect(answer.filter(has_text="80000005").first).to_contain_text(HAN)

    await customer_says(shop, "转人工")
    await expect(shop.locator("#chat-status")).to_have_text("正在等待人工客服")
    await expect(shop.locator("#chat-log .msg.system").last).to_contain_text(HAN)  # the gateway's note, in Chinese

    console = await (await browser.new_context(locale="zh-CN")).new_page()
    await console.goto(f"{web.url}/agent")
    await expect(console.locator("html")).to_have_attribute("lang", "zh-Hans")
    await expect(console.locator("#login button")).to_have_text("登录")
    await log_in(console, "alice", "alice-demo")
    await expect(console.locator("#desk h2").first).to_have_text("排队中")
    row = console.locator(f'#queue li[data-id="{conversation}"]')
    await expect(row.locator(".badge.lang")).to_have_text("中文")
    await expect(row).to_contain_text("客户要求人工")
    await row.click()
    await expect(console.locator("#d-lang")).to_have_text("中文")
    await expect(console.locator("#claim")).to_have_text("接入")
    await expect(console.locator("#order")).to_contain_text("Li Wei")

    agent_token = await console.evaluate("sessionStorage.getItem('shopdesk.agent')")
    async with web.http.get(
        f"/api/agent/conversations/{conversation}", headers={"Authorization": f"Bearer {agent_token}"}
    ) as resp:
        detail = await resp.json()
    assert detail["language"] == "zh"
    assert HAN.search(detail["summary_zh"]), detail
    assert detail["summary"] and detail["summary"] != detail["summary_zh"], detail
    await expect(console.locator("#d-summary")).to_have_text(detail["summary_zh"])

    # The agent's switch: the console in English (English summary), kept across a reload; the badge stays.
    await console.click('#console-lang button[data-lang="en"]')
    await expect(console.locator("html")).to_have_attribute("lang", "en")
    await expect(console.locator("#d-summary")).to_have_text(detail["summary"])
    await expect(console.locator("#claim")).to_have_text("Claim")
    await expect(console.locator("#d-lang")).to_have_text("中文")
    await console.reload()
    await expect(console.locator("#desk h2").first).to_have_text("Queue")
    await expect(row.locator(".badge.lang")).to_have_text("中文")
    await console.click('#console-lang button[data-lang="zh"]')
    await expect(console.locator("#desk h2").first).to_have_text("排队中")
    await row.click()
    await expect(console.locator("#d-summary")).to_have_text(detail["summary_zh"])

    await console.click("#claim")
    await expect(console.locator("#d-meta")).to_contain_text("处理中")
    await expect(console.locator(f'#mine li[data-id="{conversation}"] .badge.lang')).to_have_text("中文")
    await expect(shop.locator("#chat-status")).to_have_text("人工客服")
    joined = shop.locator("#chat-log .msg.system").filter(has_text="Alice").last
    await expect(joined).to_contain_text(HAN)
    await console.fill("#reply-text", "您好，我是Alice，正在帮您查询包裹。")
    await console.press("#reply-text", "Enter")
    await expect(shop.locator("#chat-log .msg.agent")).to_contain_text("您好，我是Alice，正在帮您查询包裹。")

    await console.click("#resolve")
    await expect(shop.locator("#chat-status")).to_have_text("已解决")
    await expect(shop.locator("#rating p")).to_have_text("您对本次服务满意吗？")
    await expect(shop.locator("#stars button").nth(4)).to_have_attribute("title", "5 星（满分 5 星）")
    await shop.locator("#stars button").nth(4).click()
    await expect(shop.locator("#rating button[type=submit]")).to_have_text("提交评价")
    await shop.click("#rating button[type=submit]")
    await expect(shop.locator("#chat-log")).to_contain_text("感谢您的评价！")


async def test_the_widgets_language_switch(browser: Browser, web: Gateway) -> None:
    """The switch changes the page, persists, and tells the gateway: the bot answers in the chosen language."""
    expect.set_options(timeout=TIMEOUT)
    shop = await (await browser.new_context(locale="en-US")).new_page()
    await shop.goto(f"{web.url}/")
    await expect(shop.locator("html")).to_have_attribute("lang", "en")
    await expect(shop.locator("#chat-toggle")).to_have_text("Chat with us")
    await shop.click("#chat-toggle")
    conversation, token = await stored_conversation(shop)
    await conversation_language(web, conversation, token, "en")

    await shop.click('#chat [data-lang="zh-Hant"]')
    await expect(shop.locator("html")).to_have_attribute("lang", "zh-Hant")
    await expect(shop.locator("h1")).to_have_text("示範商店")
    await expect(shop.locator("#chat-toggle")).to_have_text("聯絡客服")
    await expect(shop.locator("#chat-input")).to_have_attribute("placeholder", "請輸入您的問題")
    await expect(shop.locator("#chat-status")).to_have_text("智慧助理")
    await expect(shop.locator('#chat [data-lang="zh-Hant"]')).to_have_attribute("aria-pressed", "true")
    await expect(shop.locator('#chat [data-lang="en"]')).to_have_attribute("aria-pressed", "false")
    await conversation_language(web, conversation, token, "zh-Hant")
    asked = await bot_answers(shop, "我的訂單80000005到哪了")
    await expect(asked.first).to_contain_text(HAN)
    assert is_traditional(" ".join(await asked.all_inner_texts())), await asked.all_inner_texts()

    await shop.reload()  # the choice outlives the page, although the browser says English
    await expect(shop.locator("html")).to_have_attribute("lang", "zh-Hant")
    await expect(shop.locator("#chat-toggle")).to_have_text("聯絡客服")
    await shop.click("#chat-toggle")

    # Back to English: the next language-less message (an email) is answered in English.
    await shop.click('#chat [data-lang="en"]')
    await expect(shop.locator("#chat-toggle")).to_have_text("Chat with us")
    await expect(shop.locator("#chat-input")).to_have_attribute("placeholder", "Type your message")
    await conversation_language(web, conversation, token, "en")
    answer = await bot_answers(shop, "li.wei@example.com")
    await expect(answer.filter(has_text="Order 80000005").first).to_contain_text("Bluetooth speaker")
    for text in await answer.all_inner_texts():
        assert not HAN.search(text), text


async def test_the_browsers_language_picks_the_pages_language(browser: Browser, web: Gateway) -> None:
    expect.set_options(timeout=TIMEOUT)
    cases = [
        ("zh-TW", "zh-Hant", "聯絡客服", "登入"),
        ("zh-HK", "zh-Hant", "聯絡客服", "登入"),
        ("zh-CN", "zh-Hans", "联系客服", "登录"),
        ("zh-SG", "zh-Hans", "联系客服", "登录"),
        ("fr-FR", "en", "Chat with us", "Log in"),
    ]
    for locale, lang, toggle, login in cases:
        context = await browser.new_context(locale=locale)
        page = await context.new_page()
        await page.goto(f"{web.url}/")
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("#chat-toggle")).to_have_text(toggle)
        await page.goto(f"{web.url}/agent")
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("#login button")).to_have_text(login)
        await context.close()


async def test_the_reports_page_draws_the_periods_figures(browser: Browser, web: Gateway, tmp_path: Path) -> None:
    """Conversations played over HTTP, then the console's Reports link: tiles, three charts, the table of what
    the bot could not serve; no error in the page (the CSP allows the vendored Chart.js)."""
    expect.set_options(timeout=TIMEOUT)
    for said in (["hello", "thanks"], ["asdfgh qwerty zxcvb", "thanks"], ["I want to talk to a human"]):
        async with web.http.post("/api/conversations") as resp:
            opened = await resp.json()
        for text in said:
            headers = {"Authorization": f"Bearer {opened['token']}"}
            path = f"/api/conversations/{opened['conversation_id']}/messages"
            async with web.http.post(path, json={"text": text}, headers=headers) as resp:
                assert resp.status == 200
    page = await (await browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    await page.goto(f"{web.url}/agent")
    await log_in(page, "sam", "sam-demo")  # a supervisor: agents do not see the reports
    await page.click("a[href='/agent/reports']")
    await expect(page.locator("#tiles")).to_contain_text("Conversations")
    await expect(page.locator("#tiles .tile").first).to_contain_text("3")
    await expect(page.locator("#tiles")).to_contain_text("2 (66.7 %)")  # kept by the bot
    await expect(page.locator("#unserved")).to_contain_text("asdfgh qwerty zxcvb")
    for chart in ("chart-days", "chart-reasons", "chart-intents"):
        assert await page.evaluate(f"window.Chart.getChart('{chart}') !== undefined")
    shots = Path(os.environ.get("SHOPDESK_SCREENSHOTS") or tmp_path)
    await page.screenshot(path=str(shots / "reports.png"), full_page=True)
    assert (shots / "reports.png").stat().st_size > 10_000
    assert errors == []


async def test_presence_a_note_and_a_transfer_in_the_consoles(browser: Browser, web: Gateway) -> None:
    """Alice and Bob at their consoles; a customer in the widget asks for a person. Bob hears the new chat;
    Alice goes away and back (Bob sees it), claims, writes an internal note and transfers to Bob with one:
    the widget shows that Bob takes over, never the notes."""
    expect.set_options(timeout=TIMEOUT)
    consoles = []
    for username in ("alice", "bob"):
        page = await (await browser.new_context(locale="en-US")).new_page()
        await page.goto(f"{web.url}/agent")
        await log_in(page, username, f"{username}-demo")
        await expect(page.locator("#team")).to_contain_text("Alice")
        consoles.append(page)
    alice, bob = consoles
    await expect(bob.locator('#team li[data-username="alice"]')).to_have_class(re.compile("online"))

    shop = await (await browser.new_context(locale="en-US")).new_page()
    await shop.goto(f"{web.url}/")
    await shop.click("#chat-toggle")
    await customer_says(shop, "I want to talk to a human")
    await expect(shop.locator("#chat-status")).to_have_text("Waiting for an agent")
    conversation, _ = await stored_conversation(shop)
    await expect(bob.locator("body")).to_have_attribute("data-rang", conversation)  # a new chat for his skills

    await alice.select_option("#presence", "away")
    await expect(bob.locator('#team li[data-username="alice"]')).to_have_class(re.compile("away"))
    await alice.select_option("#presence", "online")
    await expect(bob.locator('#team li[data-username="alice"]')).to_have_class(re.compile("online"))

    await alice.locator(f'#queue li[data-id="{conversation}"]').click()
    await alice.click("#claim")
    await expect(alice.locator("#d-meta")).to_contain_text("assigned")
    await alice.fill("#note-text", "Second time this week, be kind")
    await alice.press("#note-text", "Enter")
    await expect(alice.locator("#transcript .msg.note")).to_contain_text("Second time this week, be kind")
    await alice.click("#transfer")
    await alice.select_option("#transfer-to", "agent:bob")
    await alice.fill("#transfer-note", "Bob knows this carrier")
    await alice.click("#transfer-form button[type=submit]")
    await expect(bob.locator(f'#mine li[data-id="{conversation}"]')).to_be_visible()
    await expect(shop.locator("#chat-log")).to_contain_text("Bob is taking over from here.")
    await bob.locator(f'#mine li[data-id="{conversation}"]').click()
    await expect(bob.locator("#transcript .msg.note")).to_have_count(2)
    log = await shop.locator("#chat-log").inner_text()
    assert "be kind" not in log and "carrier" not in log
