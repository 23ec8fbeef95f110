"""Private chat in real Chromium: pick a recipient, and only they see it, marked private.

With the default ``chat.private: hosts`` a participant may write privately to
the host and co-hosts only: the "To" list offers just them, and the host may
write privately to anyone. A third person's chat log shows the public line
sent after the private ones (the control) and nothing else.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Locator, expect
from support.browser import (
    NO_WAITING_ROOM,
    Person,
    create_meeting,
    host_joins,
    join,
    open_person,
    screenshot,
    wait_for_screen,
)
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def _say(person: Person, text: str, to: str) -> None:
    page = person.page
    await page.locator("#chat-to").select_option(label=to)
    await page.fill("#chat-input", text)
    await page.press("#chat-input", "Enter")
    await expect(page.locator("#chat-input")).to_have_value("")  # sent: the server allowed it


def _line(person: Person, text: str) -> Locator:
    return person.page.locator("#chat-log li").filter(has_text=text)


async def test_a_private_message_is_seen_by_its_recipient_only_and_marked_private(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    carol = await open_person(browser, server.url, "Carol Jones")
    meeting = await create_meeting(host, NO_WAITING_ROOM)
    await host_joins(host, meeting)
    for guest in (bob, carol):
        await join(guest, meeting.join_url)
        await wait_for_screen(guest, "meeting")

    # Bob may write privately to the host only; Carol is not offered.
    recipients = bob.page.locator("#chat-to option")
    await expect(recipients).to_have_text(["Everyone", "Alice Chen (host)"])
    await _say(bob, "Bob to Alice, privately", "Alice Chen (host)")
    await expect(bob.page.locator("#chat-input")).to_have_attribute(
        "placeholder", "Private message to Alice Chen"
    )
    received = _line(host, "Bob to Alice, privately")
    await expect(received.locator(".chat-privately")).to_have_text("privately to you")
    await expect(received).to_have_attribute("data-private", "true")
    sent = _line(bob, "Bob to Alice, privately")
    await expect(sent.locator(".chat-privately")).to_have_text("privately to Alice Chen")

    # The host may write privately to anyone.
    await expect(host.page.locator("#chat-to option")).to_have_text(
        ["Everyone", "Bob Smith", "Carol Jones"]
    )
    await _say(host, "Alice to Carol, privately", "Carol Jones")
    await expect(_line(carol, "Alice to Carol, privately").locator(".chat-privately")).to_have_text(
        "privately to you"
    )
    await screenshot(carol, "private-chat")

    # Control: a public line sent after both reaches everyone; before it Carol saw only
    # hers, and Bob nothing of the host's private line to Carol.
    await _say(bob, "hello everyone", "Everyone")
    for person in (host, carol):
        line = _line(person, "hello everyone")
        await expect(line).to_have_count(1)
        await expect(line).to_have_attribute("data-private", "false")
    await expect(carol.page.locator("#chat-log li")).to_have_count(2)
    await expect(_line(carol, "Bob to Alice")).to_have_count(0)
    await expect(_line(bob, "Alice to Carol")).to_have_count(0)
    for person in (carol, bob, host):
        await person.close()
