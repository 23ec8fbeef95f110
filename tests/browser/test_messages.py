"""What the page says stays true, in real Chromium: the roster follows the camera, a host
reads sentences about the person (not ones written to them), hints go when they stop
being true, per-person actions offer only what would do something, toasts never cover
a control, and nothing red is left on the page that says the meeting ended."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect
from support.browser import (
    COVERED_CONTROLS,
    NO_WAITING_ROOM,
    create_meeting,
    host_and_guest,
    host_joins,
    join,
    open_person,
    open_tab,
    sign_in,
    wait_for_screen,
)
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(150)]

CAMERA_WARNS = {
    "waiting_room": {"enabled": False},
    "camera": {
        "required": True,
        "check_seconds": 5,
        "on_missing": "warn",
        "on_lost": "warn",
        "lost_grace_seconds": 2,
    },
}


# Every text the camera's hint shows, kept as the page shows it: the check may pass before
# a test could read the hint, on a busy machine, and what counts is that Bob read it.
HINTS_SEEN = """
window.__cameraHints = [];
new MutationObserver(() => {
  const why = document.getElementById('camera-why');
  if (why) window.__cameraHints.push(why.textContent);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


async def test_turning_the_camera_off_shows_off_and_the_host_reads_the_persons_name(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    await bob.page.add_init_script(HINTS_SEEN)
    meeting = await create_meeting(host, {**NO_WAITING_ROOM, "entry": CAMERA_WARNS})
    await host_joins(host, meeting)
    await join(bob, meeting.join_url)
    await wait_for_screen(bob, "meeting")
    await open_tab(host, "people")
    row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await expect(row).to_contain_text("camera on")
    # The server checks Bob's video, then finds it working.
    await bob.page.wait_for_function(
        "() => window.__cameraHints.some(t => t.includes('the server is checking your video'))"
    )
    why = bob.page.locator("#camera-why")
    await expect(why).to_have_text("")
    await bob.page.click("#camera-button")
    await expect(bob.page.locator("#camera-button")).to_have_text("Turn camera on")
    # The roster says what is sent: nothing.
    await expect(row).not_to_contain_text("camera on")
    own = bob.page.locator("#roster li.person").filter(has_text="Bob Smith (you)")
    await expect(own).not_to_contain_text("camera on")
    # The host's notices name Bob; none is the sentence written to Bob.
    await expect(host.page.locator("#toasts")).to_contain_text(
        "Bob Smith's camera did not come back in time.", timeout=30_000
    )
    await expect(host.page.locator("#toasts")).not_to_contain_text("Your camera")
    await bob.page.click("#camera-button")
    await expect(row).to_contain_text("camera on")
    await expect(bob.page.locator("#camera-button")).to_have_text("Turn camera off")
    # The host ends the meeting: Bob's page says so, and nothing red is left on it.
    end = host.page.locator("#end-button")
    await end.click()
    await end.click()
    await wait_for_screen(bob, "ended")
    await expect(bob.page.locator("#ended-title")).to_be_visible()
    await expect(bob.page.locator(".toast:visible")).to_have_count(0)
    await expect(bob.page.locator("body")).not_to_contain_text("not_admitted")
    for person in (bob, host):
        await person.close()


async def test_actions_offer_only_what_would_do_something_and_toasts_cover_no_control(
    browser: Browser, server: RunningServer
) -> None:
    policy = {"file_share": {"allowed": "with_grant"}}
    host = await open_person(browser, server.url, "Alice Chen", width=700, height=520)
    bob = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host, {"entry": {"waiting_room": {"enabled": False}}, **policy})
    await host.page.goto(meeting.host_link)
    await host.page.fill("#join-name", "Alice Chen")
    await host.page.click("#join-button")
    await wait_for_screen(host, "meeting")
    await bob.page.goto(meeting.join_url)
    await bob.page.fill("#join-name", "Bob Smith")
    await bob.page.click("#join-button")
    await wait_for_screen(bob, "meeting")
    await open_tab(host, "people")
    row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await row.locator("summary").click()
    # No hand raised, nothing granted: nothing to lower or revoke.
    await expect(row.get_by_role("button", name="Lower hand")).to_be_hidden()
    await expect(row.get_by_role("button", name="Revoke files")).to_be_hidden()
    await expect(row.get_by_role("button", name="Revoke screen sharing")).to_be_hidden()
    await bob.page.click("#hand-button")
    await expect(row.get_by_role("button", name="Lower hand")).to_be_visible()
    await row.get_by_role("button", name="Allow files").click()
    await expect(row.get_by_role("button", name="Revoke files")).to_be_visible()
    # The result's toast is over the video, not over a button.
    await expect(host.page.locator("#toasts .toast").first).to_be_visible()
    assert await host.page.evaluate(COVERED_CONTROLS) == [], "a toast covers a control"
    await row.get_by_role("button", name="Lower hand").click()
    await expect(row.get_by_role("button", name="Lower hand")).to_be_hidden()
    await row.get_by_role("button", name="Revoke files").click()
    await expect(row.get_by_role("button", name="Revoke files")).to_be_hidden()
    for person in (bob, host):
        await person.close()


async def _refused_for_a_short_name(page: Page, url: str) -> None:
    await page.goto(url)
    await page.fill("#join-name", "Bob")
    await page.click("#join-button")
    await expect(page.locator("#join-refusal")).to_be_visible()


async def test_a_refusal_about_the_name_goes_once_the_name_is_fixed(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    guest = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host, {})
    page = guest.page
    await _refused_for_a_short_name(page, meeting.join_url)
    await expect(page.locator("#join-name")).to_have_attribute("aria-invalid", "true")
    await page.fill("#join-name", "Bob Smith")
    await expect(page.locator("#join-refusal")).to_be_hidden()
    await expect(page.locator("#join-name")).not_to_have_attribute("aria-invalid", "true")
    for person in (guest, host):
        await person.close()


async def test_a_failed_creation_goes_once_the_host_edits_or_creates(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    await sign_in(host)
    page = host.page
    editor = page.locator("textarea.code-input")
    error = page.locator("#create-error")
    # A password the policy asks for and the host left out: refused, said at the field.
    await editor.fill('{"entry": {"password": true}}')
    await expect(page.locator(".editor-errors")).to_be_hidden()
    await page.click("#create")
    await expect(error).to_be_visible()
    await expect(page.locator("#password-error")).to_be_visible()
    # Typing a password: the refusal was about the form as sent; it goes.
    await page.fill("#password", "tulip-42-x")
    await expect(error).to_be_hidden()
    await expect(page.locator("#password-error")).to_be_hidden()
    await page.fill("#password", "")
    await page.click("#create")
    await expect(error).to_be_visible()
    # Editing the policy: the same.
    await editor.fill("{}")
    await expect(error).to_be_hidden()
    await page.fill("#password", "tulip-42-x")
    await editor.fill('{"entry": {"password": true}}')
    await page.click("#create")
    await expect(page.locator("#created")).to_be_visible()
    await expect(error).to_be_hidden()
    await host.close()


async def test_hints_about_permission_go_when_the_policy_or_the_hand_changes_them(
    browser: Browser, server: RunningServer
) -> None:
    strict = {"screen_share": {"allowed": "host_only"}, "file_share": {"allowed": "with_grant"}}
    host, bob, _ = await host_and_guest(browser, server.url, strict)
    page = bob.page
    # Refused: the screen (hosts only), the microphone (a hand first); files need asking.
    await page.click("#share-button")
    share_why = page.locator("#share-why")
    await expect(share_why).to_have_text("Only the host may share your screen in this meeting.")
    await page.click("#mic-button")
    mic_why = page.locator("#mic-why.refused")
    await expect(mic_why).to_have_text("Raise your hand; the host will let you speak.")
    await open_tab(bob, "files")
    await page.get_by_role("button", name="Ask the host to let me share files").click()
    file_why = page.locator("#file-why")
    await expect(file_why).not_to_have_text("Ask the host for permission to share files first.")
    asked = await file_why.inner_text()
    assert asked
    # The hand goes up: "raise your hand" is no longer what to do.
    await page.click("#hand-button")
    await expect(page.locator("#mic-why")).to_have_text(
        "Your hand is raised; the host will let you speak."
    )
    await expect(page.locator("#mic-why")).not_to_have_class("why refused")
    # The host lets everyone share: the refusal and "the host has been asked" go.
    await open_tab(host, "policy")
    policy_editor = host.page.locator("#panel-policy textarea.code-input")
    relaxed = (
        '{"entry": {"waiting_room": {"enabled": false}}, '
        '"screen_share": {"allowed": "anyone"}, "file_share": {"allowed": "anyone"}}'
    )
    await policy_editor.fill(relaxed)
    await host.page.click("#apply-policy")
    await expect(host.page.locator("#policy-result")).to_contain_text(
        "The meeting's policy was updated"
    )
    await expect(share_why).to_have_text("")
    await expect(file_why).to_have_text("")
    await expect(page.locator("#file-input")).to_be_enabled()
    for person in (bob, host):
        await person.close()
