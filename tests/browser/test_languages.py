"""The client in the person's language, in real Chromium: a browser set to Chinese reads
the join page, a refusal and the waiting room in Chinese; the switch changes to English
and the choice stays; on a phone in the dark the switch fits the top bar and the look's
own words (the drawer, Copy link, the audit log, the remembered name) read in Chinese."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from support.browser import (
    NO_WAITING_ROOM,
    create_meeting,
    host_joins,
    join,
    open_person,
    open_tab,
    screenshot,
    wait_for_screen,
)
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


PHONE = {"width": 390, "height": 844}
# The language switch in the top bar: on screen, inside the bar, nothing scrolls sideways.
SWITCH_FITS = """() => {
  const bar = document.querySelector('header.topbar').getBoundingClientRect();
  const box = document.querySelector('#language-switch').getBoundingClientRect();
  return {
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    inside: box.left >= bar.left && box.right <= bar.right && box.top >= bar.top
      && box.bottom <= bar.bottom && box.right <= document.documentElement.clientWidth,
  };
}"""


async def test_on_a_phone_in_the_dark_the_meetings_comforts_read_in_chinese(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen", locale="zh-CN", **PHONE)
    guest = await open_person(browser, server.url, "Li Na", locale="zh-CN", **PHONE)
    meeting = await create_meeting(host, NO_WAITING_ROOM)
    page = guest.page
    for person in (host, guest):
        await person.page.emulate_media(color_scheme="dark")
    # The join page: the switch fits the phone's top bar.
    await page.goto(meeting.join_url)
    await expect(page.locator("#language-switch")).to_be_visible()
    fits = await page.evaluate(SWITCH_FITS)
    assert fits == {"sideways": 0, "inside": True}, fits
    await screenshot(guest, "zh-CN-phone-dark-join")

    await host_joins(host, meeting)
    await join(guest, meeting.join_url)
    await wait_for_screen(guest, "meeting")
    await expect(page.locator("#language-switch")).to_be_hidden()
    # The drawer's button and the participants' link.
    toggle = page.locator("#side-toggle")
    await expect(toggle).to_contain_text("聊天和成员")
    await expect(toggle).to_be_in_viewport()
    await open_tab(guest, "people")
    await expect(page.locator("label[for=share-link-input]")).to_have_text("参会者链接")
    await expect(page.locator("#copy-share-link")).to_have_text("复制链接")
    await expect(page.locator("#share-link-hint")).to_have_text(
        "把它发给你希望参加这个会议的人；谁能进入仍由会议规则决定。"
    )
    await screenshot(guest, "zh-CN-phone-dark-people")
    # The host's audit log: its columns and actions in Chinese, the codes kept as they are.
    await open_tab(host, "audit")
    await expect(host.page.locator("#audit-table thead th")).to_have_text(
        ["时间", "人员", "操作", "决定"]
    )
    await expect(host.page.locator("#audit-event option").first).to_have_text("任何操作")
    joined = host.page.locator("#audit-rows tr", has_text="Li Na").last  # newest first
    await expect(joined.locator(".audit-action")).to_have_text("加入")
    await expect(joined.locator(".verdict")).to_have_text("允许")
    await expect(joined.locator(".audit-codes")).to_contain_text("原因 ")
    await screenshot(host, "zh-CN-phone-dark-audit")

    # Left: the switch is back, and the name that got in is offered next time.
    await page.click("#leave-button")
    await wait_for_screen(guest, "ended")
    await expect(page.locator("#language-switch")).to_be_visible()
    await page.goto(meeting.join_url)
    await expect(page.locator("#join-name")).to_have_value("Li Na")
    await expect(page.locator("#join-name-remembered")).to_contain_text(
        "这是此浏览器记住的你上次参会时的名字。"
    )
    await page.get_by_role("button", name="不再记住").click()
    await expect(page.locator("#join-name")).to_have_value("")
    await guest.close()
    await host.close()
