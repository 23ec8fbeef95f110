"""The waiting room without dead ends, in real Chromium: what a guest must bring is said
before they join, a camera can be turned on from the waiting room, and a host cannot
miss someone waiting (a prompt, the tab's title, an announcement) nor why they wait."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from support.browser import (
    create_meeting,
    host_joins,
    join,
    open_person,
    open_tab,
    screenshot,
    wait_for_screen,
)
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(150)]
BOARD = json.loads(
    (Path(__file__).parents[2] / "policies" / "examples" / "board_meeting.json").read_text()
)
PASSWORD = "board-2024-q3"


async def test_a_guest_without_a_camera_is_told_and_can_turn_one_on_from_the_waiting_room(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host, BOARD, password=PASSWORD)
    await host_joins(host, meeting)
    page = bob.page
    await page.goto(meeting.join_url)
    # Before joining, the join page says what this meeting needs.
    rules = page.locator("#join-rules")
    await expect(rules).to_contain_text("The meeting password")
    await expect(rules).to_contain_text("Your full name: at least 2 words")
    await expect(rules).to_contain_text("A working camera")
    await expect(rules).to_contain_text("waiting room")
    await page.wait_for_function("() => document.querySelector('#preview').videoWidth > 0")
    await expect(page.locator("#camera-required")).to_be_hidden()
    await page.select_option("#camera-select", "none")
    await expect(page.locator("#camera-required")).to_have_text(
        "This meeting requires a camera. Without one you will be sent back to the "
        "waiting room: pick a camera."
    )
    await screenshot(bob, "join-camera-required")
    # Bob joins anyway; the host admits him; no video arrives, so the policy sends him back.
    await page.fill("#join-name", "Bob Smith")
    await page.fill("#join-password", PASSWORD)
    await page.click("#join-button")
    await wait_for_screen(bob, "waiting")
    await expect(page.locator("#waiting-camera")).to_be_visible()
    prompt = host.page.locator("#waiting-prompt")
    await expect(prompt).to_contain_text("Bob Smith is waiting to join.")
    await prompt.get_by_role("button", name="Admit", exact=True).click()
    await wait_for_screen(bob, "meeting")
    await expect(page.locator("#camera-button")).to_be_enabled()
    await expect(page.locator("#camera-button")).to_have_text("Turn camera on")
    await open_tab(host, "people")
    await expect(host.page.locator("#console-status")).to_have_text("Bob Smith was admitted.")
    # Sent back after check_seconds: he is told why and shown a way out, not only Leave.
    await wait_for_screen(bob, "waiting")
    await expect(page.locator("#waiting-message")).to_contain_text("Turn on your camera.")
    await expect(page.locator("#waiting-camera")).to_be_visible()
    await expect(page.locator("#toasts .toast")).to_have_count(0)
    # The host sees why Bob waits again; "was admitted" no longer stands.
    reason = "Sent back: no working video arrived from their camera."
    await expect(prompt).to_contain_text(reason)
    await expect(prompt).to_contain_text("camera_missing")
    # He waits from the moment he was sent back (more than check_seconds after his join),
    # and the time ticks on.
    await expect(prompt).to_contain_text("waiting 0:0")
    await expect(prompt).to_contain_text(re.compile(r"waiting 0:0[1-9]"))
    entry = host.page.locator("#waiting-list li").filter(has_text="Bob Smith")
    await expect(entry).to_contain_text(reason)
    await expect(entry).to_contain_text("rule /entry/camera/on_missing")
    await expect(host.page.locator("#console-status")).to_have_text("")
    await screenshot(host, "host-sees-why-waiting")
    # Bob turns his camera on in the waiting room and is let in again, with video.
    await page.get_by_role("button", name="Turn on my camera").click()
    await expect(page.locator("#waiting-camera-ok")).to_be_visible()
    await page.wait_for_function("() => document.querySelector('#waiting-preview').videoWidth > 0")
    await screenshot(bob, "waiting-camera-on")
    await prompt.get_by_role("button", name="Admit", exact=True).click()
    await wait_for_screen(bob, "meeting")
    await expect(page.locator("#camera-button")).to_have_text("Turn camera off")
    bob_row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await expect(bob_row).to_contain_text("camera on")
    await bob.close()
    await host.close()


async def test_a_host_cannot_miss_someone_waiting(browser: Browser, server: RunningServer) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    carol = await open_person(browser, server.url, "Carol Jones")
    meeting = await create_meeting(host, {"name": "Design review"})
    await host_joins(host, meeting)
    await expect(host.page).to_have_title("Design review · meetwarden")
    await join(bob, meeting.join_url)
    await wait_for_screen(bob, "waiting")
    # The chat tab is open: the prompt, the title and the announcement still say it.
    prompt = host.page.locator("#waiting-prompt")
    await expect(prompt).to_be_visible()
    await expect(prompt.locator("#waiting-prompt-text")).to_have_text(
        "Bob Smith is waiting to join."
    )
    await expect(host.page).to_have_title("(1) waiting · Design review · meetwarden")
    await expect(host.page.locator("#live-alert")).to_have_text(
        "Bob Smith is waiting to join. Asks to join."
    )
    # The waiting time ticks.
    why = prompt.locator("#waiting-prompt-why")
    await expect(why).to_contain_text("waiting 0:0")
    await expect(why).not_to_contain_text("waiting 0:00")
    await screenshot(host, "host-waiting-prompt", docs=True)
    await join(carol, meeting.join_url)
    await wait_for_screen(carol, "waiting")
    await expect(prompt.locator("#waiting-prompt-text")).to_have_text(
        "2 people are waiting to join."
    )
    await expect(host.page).to_have_title("(2) waiting · Design review · meetwarden")
    await expect(prompt.get_by_role("button", name="Deny")).to_have_count(0)
    # Denying one from the list leaves one: the prompt offers Admit and Deny for her.
    await open_tab(host, "people")
    await host.page.click('button[aria-label="Deny Bob Smith"]')
    await expect(prompt.locator("#waiting-prompt-text")).to_have_text(
        "Carol Jones is waiting to join."
    )
    await expect(prompt.get_by_role("button", name="Deny")).to_be_visible()
    await prompt.get_by_role("button", name="Admit", exact=True).click()
    await wait_for_screen(carol, "meeting")
    await expect(prompt).to_be_hidden()
    await expect(host.page).to_have_title("Design review · meetwarden")
    for person in (bob, carol, host):
        await person.close()
