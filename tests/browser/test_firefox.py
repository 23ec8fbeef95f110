"""The web client in real Firefox (Debian's firefox-esr over WebDriver BiDi), with a Chromium host.

A Firefox participant goes the whole way a participant goes: the join form,
the waiting room, admission, muted on entry with the policy's reason on the
mic button, a raised hand the host sees and answers, unmuting, chat, video
both ways (frames counted in both browsers), leaving. Firefox missing is a
failure, not a skip: the README's `make test` installs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect
from support.browser import (
    COUNT_FRAMES,
    Person,
    admit,
    create_meeting,
    host_joins,
    open_person,
    open_tab,
    wait_for_screen,
)
from support.firefox import FIREFOX_HINT, Firefox, firefox_executable
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(150)]


def visible(selector: str) -> str:
    return f"document.querySelector({selector!r})?.checkVisibility()"


def has_text(selector: str, text: str) -> str:
    return f"document.querySelector({selector!r})?.textContent.trim() === {text!r}"


@pytest.fixture
async def firefox() -> AsyncIterator[Firefox]:
    executable = firefox_executable()
    if executable is None:
        pytest.fail(f"Firefox is not installed; {FIREFOX_HINT}")
    async with Firefox(executable) as browser:
        yield browser


async def host_sees_frames(host: Person, pid: str) -> int:
    selector = f'#grid video[data-participant-id="{pid}"][data-source="camera"]'
    await host.page.wait_for_selector(selector, state="attached")
    return int(await host.page.evaluate(COUNT_FRAMES, [selector, 5, 10_000]))


async def test_a_firefox_participant_joins_waits_is_admitted_speaks_chats_and_sees_video(
    browser: Browser, server: RunningServer, firefox: Firefox
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    meeting = await create_meeting(
        host, {"name": "Firefox check", "audio": {"unmute": "after_raised_hand"}}
    )
    await host_joins(host, meeting)

    await firefox.goto(meeting.join_url)
    await firefox.fill("#join-name", "Dana Fox")
    await firefox.click("#join-button")
    await firefox.wait_for(visible("#screen-waiting"))
    # The waiting room shows nothing of the meeting.
    assert "Firefox check" not in await firefox.text("#screen-waiting")

    await admit(host, "Dana Fox")
    await firefox.wait_for(visible("#screen-meeting"))

    # Muted on entry, and the mic button says why it cannot unmute yet.
    await firefox.wait_for(has_text("#mic-button", "Unmute"))
    await firefox.wait_for(has_text("#mic-why", "Raise your hand; the host will let you speak."))
    await firefox.click("#hand-button")
    request = host.page.locator('#requests li[data-topic="hand_raised"]')
    await expect(request).to_contain_text("Dana Fox raised a hand.")
    await request.get_by_role("button", name="Let them speak").click()
    await firefox.wait_for(
        has_text("#mic-why", "The host lets you speak: press Unmute when you are ready.")
    )
    await firefox.click("#mic-button")
    await firefox.wait_for(has_text("#mic-button", "Mute"))
    tile = host.page.locator("#grid .tile").filter(has_text="Dana Fox")
    await expect(tile.locator(".state-muted")).to_be_hidden()

    # Chat from Firefox reaches the host as text.
    await firefox.fill("#chat-input", "hello from <b>Firefox</b>")
    await firefox.click("#chat-send")
    message = host.page.locator("#chat-log li").last
    await expect(message.locator(".chat-text")).to_have_text("hello from <b>Firefox</b>")
    await expect(message.locator(".chat-sender")).to_have_text("Dana Fox")

    # Video both ways: Firefox plays the host's camera, the host plays Firefox's.
    await open_tab(host, "people")
    rows = host.page.locator("#roster li.person")
    ids = {}
    for name in ("Alice Chen", "Dana Fox"):
        value = await rows.filter(has_text=name).get_attribute("data-participant-id")
        assert value
        ids[name] = value
    alice_video = f'#grid video[data-participant-id="{ids["Alice Chen"]}"][data-source="camera"]'
    await firefox.wait_for(f"document.querySelector({alice_video!r})?.videoWidth > 0", 20_000)
    seen = await firefox.call(COUNT_FRAMES, [alice_video, 5, 10_000])
    assert seen >= 5, f"Firefox played {seen} frames of the host's camera"
    assert await host_sees_frames(host, ids["Dana Fox"]) >= 5, "the host sees no Firefox video"

    await firefox.click("#leave-button")
    await firefox.wait_for(visible("#screen-ended"))
    await expect(host.page.locator("#grid .tile")).to_have_count(1)
    await wait_for_screen(host, "meeting")

    assert not firefox.errors, f"uncaught errors in Firefox: {firefox.errors}"
    assert not firefox.foreign_requests(server.url), firefox.foreign_requests(server.url)
    assert firefox.requests, "Firefox's requests were not recorded"
    await host.close()
