"""The client in the person's language, in real Chromium: a browser set to Chinese reads
the join page, a refusal and the waiting room in Chinese; the switch changes to English
and the choice stays."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from support.browser import create_meeting, join, open_person, screenshot, wait_for_screen
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

PASSWORD = "tulip-42-x"


async def test_a_chinese_browser_reads_the_join_page_and_a_refusal_in_chinese(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    guest = await open_person(browser, server.url, "Li Na", locale="zh-CN")
    meeting = await create_meeting(host, {"entry": {"password": True}}, password=PASSWORD)
    page = guest.page
    await page.goto(meeting.join_url)
    await expect(page.locator("#join-title")).to_have_text("加入会议")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.locator("label[for=join-name]")).to_have_text("你的全名")
    await expect(page.locator("#join-button")).to_have_text("加入")
    await expect(page.locator("#language-switch")).to_have_value("zh-CN")
    await expect(page).to_have_title("加入会议 · meetwarden")
    # What the meeting needs, said by the client, in Chinese too.
    await expect(page.locator("#join-rules-list")).to_contain_text("会议密码，由主持人提供。")

    await join(guest, meeting.join_url, password="not-it")
    await expect(page.locator("#refusal-message")).to_have_text("无法加入：请检查会议链接和密码。")
    await expect(page.locator("#refusal-next")).to_have_text("请检查会议链接和密码，然后重新加入。")
    await screenshot(guest, "join-refused-zh-CN")
    await guest.close()
    await host.close()


async def test_the_waiting_room_reads_in_chinese_and_the_switch_goes_once_joined(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    guest = await open_person(browser, server.url, "Li Na", locale="zh-CN")
    meeting = await create_meeting(host, {})
    await join(guest, meeting.join_url)
    await wait_for_screen(guest, "waiting")
    page = guest.page
    await expect(page.locator("#waiting-title")).to_have_text("正在等候主持人")
    # The server's own sentence, written in the language the join named.
    await expect(page.locator("#waiting-message")).to_have_text("请稍候：主持人很快会让你进入。")
    await expect(page.locator("#language-switch")).to_be_hidden()
    await guest.close()
    await host.close()


async def test_the_switch_changes_the_page_to_english_and_the_choice_stays(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    guest = await open_person(browser, server.url, "Li Na", locale="zh-CN")
    meeting = await create_meeting(host, {"entry": {"password": True}}, password=PASSWORD)
    page = guest.page
    await page.goto(meeting.join_url)
    await expect(page.locator("#join-title")).to_have_text("加入会议")
    async with page.expect_navigation():
        await page.select_option("#language-switch", "en")
    await expect(page.locator("#join-title")).to_have_text("Join the meeting")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#language-switch")).to_have_value("en")
    await page.reload()  # remembered in this browser, whatever its own language
    await expect(page.locator("#join-title")).to_have_text("Join the meeting")
    await join(guest, meeting.join_url, password="not-it")
    await expect(page.locator("#refusal-message")).to_have_text(
        "Could not join: check the meeting link and the password."
    )
    await guest.close()
    await host.close()
