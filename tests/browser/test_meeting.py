"""In the meeting, in real Chromium: a host and two participants in three browser contexts.

Nothing here needs media to flow: these pass on a server without media too
(test_media.py checks the video itself).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from support.browser import (
    Person,
    admit,
    create_meeting,
    host_and_guest,
    host_joins,
    join,
    open_person,
    open_tab,
    screenshot,
    wait_for_screen,
)
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def _people(browser: Browser, server: RunningServer) -> tuple[Person, Person, Person]:
    return (
        await open_person(browser, server.url, "Alice Chen"),
        await open_person(browser, server.url, "Bob Smith"),
        await open_person(browser, server.url, "Carol Jones"),
    )


def _tile(person: Person, name: str):  # type: ignore[no-untyped-def]
    return person.page.locator("#grid .tile").filter(has_text=name)


async def test_people_wait_until_the_host_admits_them_and_see_nothing_of_the_meeting(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, carol = await _people(browser, server)
    meeting = await create_meeting(host, {"name": "Quarterly numbers"})
    await host_joins(host, meeting)
    for guest in (bob, carol):
        await join(guest, meeting.join_url)
        await wait_for_screen(guest, "waiting")
    page = bob.page
    await expect(page.locator("#waiting-title")).to_have_text("Waiting for the host")
    # The waiting room shows nothing of the meeting: no name, no people, no chat.
    await expect(page.locator("#meeting-name")).to_have_text("")
    await expect(page.locator("#screen-meeting")).to_be_hidden()
    assert await page.locator("#grid .tile").count() == 0
    assert "Alice Chen" not in await page.locator("body").inner_text()
    assert "Quarterly numbers" not in await page.locator("body").inner_text()
    await screenshot(bob, "waiting-room", docs=True)
    # The host sees both waiting and admits one, then everyone left.
    await open_tab(host, "people")
    await expect(host.page.locator("#waiting-list li")).to_have_count(2)
    await expect(host.page.locator("#people-count")).to_have_text("2 waiting")
    await screenshot(host, "host-waiting-list")
    await admit(host, "Bob Smith")
    await expect(host.page.locator("#console-status")).to_have_text("Bob Smith was admitted.")
    await wait_for_screen(bob, "meeting")
    await expect(carol.page.locator("#screen-waiting")).to_be_visible()
    await host.page.click("#admit-all-button")
    await wait_for_screen(carol, "meeting")
    for person in (host, bob, carol):
        await expect(person.page.locator("#grid .tile")).to_have_count(3)
        await expect(person.page.locator("#meeting-name")).to_have_text("Quarterly numbers")
        for name in ("Alice Chen", "Bob Smith", "Carol Jones"):
            await expect(_tile(person, name)).to_be_visible()
    await expect(_tile(host, "Bob Smith").locator(".state-muted")).to_be_visible()
    await expect(_tile(host, "Alice Chen").locator(".state-muted")).to_be_hidden()
    for person in (carol, bob, host):
        await person.close()


async def test_the_host_denies_and_locks_and_each_is_shown_as_it_happens(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, carol = await _people(browser, server)
    meeting = await create_meeting(host)
    await host_joins(host, meeting)
    await join(bob, meeting.join_url)
    await wait_for_screen(bob, "waiting")
    await open_tab(host, "people")
    await host.page.click('button[aria-label="Deny Bob Smith"]')
    await wait_for_screen(bob, "ended")
    await expect(bob.page.locator("#ended-title")).to_have_text("The host did not let you in")
    await expect(bob.page.locator("#ended-message")).to_have_text(
        "The host did not let you into this meeting."
    )
    await host.page.click("#lock-button")
    await expect(host.page.locator("#lock-button")).to_have_attribute("aria-pressed", "true")
    await expect(host.page.locator("#lock-state")).to_have_text("Locked")
    await join(carol, meeting.join_url)
    await expect(carol.page.locator("#refusal-message")).to_have_text(
        "The meeting is locked. Ask the host to unlock it."
    )
    await expect(carol.page.locator("#refusal-next")).to_contain_text("Ask the host to unlock it")
    for person in (carol, bob, host):
        await person.close()


async def test_muted_on_entry_a_raised_hand_lets_a_participant_speak_once_the_host_agrees(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host, {"audio": {"unmute": "after_raised_hand"}})
    await host_joins(host, meeting)
    await join(bob, meeting.join_url)
    await admit(host, "Bob Smith")
    await wait_for_screen(bob, "meeting")
    page = bob.page
    await expect(page.locator("#mic-button")).to_have_text("Unmute")
    await expect(page.locator("#mic-why")).to_have_text(
        "Raise your hand; the host will let you speak."
    )
    # Pressing anyway gets the server's refusal; the microphone track stays off.
    await page.click("#mic-button")
    await expect(page.locator("#mic-why.refused")).to_have_text(
        "Raise your hand; the host will let you speak."
    )
    await page.click("#hand-button")
    await expect(page.locator("#hand-button")).to_have_attribute("aria-pressed", "true")
    await expect(_tile(host, "Bob Smith").locator(".state-hand")).to_be_visible()
    request = host.page.locator('#requests li[data-topic="hand_raised"]')
    await expect(request).to_contain_text("Bob Smith raised a hand.")
    await request.get_by_role("button", name="Let them speak").click()
    await expect(host.page.locator("#console-status")).to_have_text("Bob Smith may unmute now.")
    await expect(page.locator("#mic-why")).to_have_text(
        "The host lets you speak: press Unmute when you are ready."
    )
    await page.click("#mic-button")
    await expect(page.locator("#mic-button")).to_have_text("Mute")
    await expect(_tile(host, "Bob Smith").locator(".state-muted")).to_be_hidden()
    # The host mutes again; the participant sees it.
    row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await row.locator("summary").click()
    await row.get_by_role("button", name="Mute", exact=True).click()
    await expect(page.locator("#mic-button")).to_have_text("Unmute")
    await expect(_tile(host, "Bob Smith").locator(".state-muted")).to_be_visible()
    for person in (bob, host):
        await person.close()


async def test_chat_shows_text_as_text_and_never_as_html(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, _ = await host_and_guest(browser, server.url)
    hostile = '<img src=x onerror="window.pwned=1"><b>hello</b>'
    await bob.page.fill("#chat-input", hostile)
    await bob.page.press("#chat-input", "Enter")
    message = host.page.locator("#chat-log li").last
    await expect(message.locator(".chat-text")).to_have_text(hostile)
    await expect(message.locator(".chat-sender")).to_have_text("Bob Smith")
    assert await host.page.locator("#chat-log img, #chat-log b").count() == 0
    assert await host.page.evaluate("() => window.pwned === undefined")
    await expect(host.page.locator("#chat-count")).to_be_hidden()  # the chat tab was open
    # At 200% zoom (a 640-pixel viewport) the meeting stacks and nothing scrolls sideways.
    await bob.page.set_viewport_size({"width": 640, "height": 400})
    overflow = await bob.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    # Leaving: the participant sees it, and the host sees them go.
    await bob.page.click("#leave-button")
    await wait_for_screen(bob, "ended")
    await expect(bob.page.locator("#ended-title")).to_have_text("You left the meeting")
    await expect(host.page.locator("#grid .tile")).to_have_count(1)
    for person in (bob, host):
        await person.close()


async def test_screen_sharing_is_refused_where_the_policy_lets_only_hosts_share(
    browser: Browser, server: RunningServer
) -> None:
    policy = {"screen_share": {"allowed": "host_only"}}
    host, bob, _ = await host_and_guest(browser, server.url, policy)
    await bob.page.click("#share-button")
    await expect(bob.page.locator("#share-why.refused")).to_have_text(
        "Only the host may share your screen in this meeting."
    )
    # No screen was asked of the browser: nothing is shown as shared.
    await expect(bob.page.locator('[data-source="local-screen"]')).to_have_count(0)
    await expect(bob.page.locator("#share-button")).to_have_text("Share a window")
    for person in (bob, host):
        await person.close()


async def test_remove_lets_people_back_through_the_waiting_room_and_ban_does_not(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, carol = await _people(browser, server)
    meeting = await create_meeting(host, {"removal": {"rejoin": "via_waiting_room"}})
    await host_joins(host, meeting)
    for guest in (bob, carol):
        await join(guest, meeting.join_url)
        await wait_for_screen(guest, "waiting")
    await open_tab(host, "people")
    await host.page.click("#admit-all-button")
    await wait_for_screen(bob, "meeting")
    await wait_for_screen(carol, "meeting")

    async def act_on(name: str, button: str, confirm: str) -> None:
        row = host.page.locator("#roster li.person").filter(has_text=name)
        await row.locator("summary").click()
        await row.get_by_role("button", name=button, exact=True).click()
        await row.get_by_role("button", name=confirm).click()

    # Armed, then a roster update arrives (Carol raises her hand): the button the host
    # pressed keeps its focus and stays armed, for the second press.
    bob_row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await bob_row.locator("summary").click()
    await bob_row.get_by_role("button", name="Remove", exact=True).click()
    armed = bob_row.get_by_role("button", name="Press again to remove")
    await expect(armed).to_be_focused()
    await carol.page.click("#hand-button")
    carol_row = host.page.locator("#roster li.person").filter(has_text="Carol Jones")
    await expect(carol_row).to_contain_text("hand raised")
    await expect(armed).to_be_focused()
    await armed.click()
    await wait_for_screen(bob, "ended")
    await expect(bob.page.locator("#ended-title")).to_have_text("You were removed from the meeting")
    await expect(bob.page.locator("#ended-message")).to_have_text(
        "The host removed you from the meeting."
    )
    await expect(host.page.locator("#console-status")).to_contain_text("Bob Smith")
    await bob.page.click("#rejoin-button")
    await bob.page.click("#join-button")
    await wait_for_screen(bob, "waiting")

    await act_on("Carol Jones", "Ban", "Press again to ban")
    await wait_for_screen(carol, "ended")
    await expect(carol.page.locator("#ended-title")).to_have_text(
        "You were removed and cannot rejoin"
    )
    await expect(carol.page.locator("#rejoin-button")).to_be_hidden()
    await join(carol, meeting.join_url)
    await expect(carol.page.locator("#refusal-message")).to_have_text(
        "You were removed from this meeting and cannot rejoin it."
    )
    await expect(carol.page.locator("#refusal-next")).to_have_text(
        "You cannot rejoin this meeting."
    )
    for person in (carol, bob, host):
        await person.close()


async def test_the_host_changes_the_policy_live_and_a_bad_one_is_shown_at_its_field(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, _ = await host_and_guest(browser, server.url)
    await open_tab(host, "policy")
    editor = host.page.locator("#panel-policy textarea.code-input")
    policy = json.loads(await editor.input_value())
    assert policy == {"entry": {"waiting_room": {"enabled": False}}}
    await editor.fill(json.dumps({**policy, "chat": {"allowed": "sometimes"}}, indent=2))
    await host.page.click("#apply-policy")
    await expect(host.page.locator("#policy-result")).to_contain_text("Not applied")
    error = host.page.locator('#panel-policy .editor-error[data-pointer="/chat/allowed"]')
    await expect(error).to_contain_text("Line 8")
    await expect(host.page.locator("#panel-policy mark.error-mark")).to_have_text(
        '"allowed": "sometimes"'
    )
    await screenshot(host, "host-policy-error")
    await editor.fill(json.dumps({**policy, "chat": {"allowed": "host_only"}}, indent=2))
    await host.page.click("#apply-policy")
    await expect(host.page.locator("#policy-result")).to_contain_text(
        "The meeting's policy was updated"
    )
    await expect(host.page.locator("#policy-revision")).to_have_text("(revision 2)")
    await bob.page.fill("#chat-input", "still there?")
    await bob.page.click("#chat-send")
    await expect(bob.page.locator("#chat-why")).to_have_text(
        "Only the host can chat in this meeting."
    )
    for person in (bob, host):
        await person.close()


# Words of the audit table that a line break cuts in two (codes break at their / and _).
BROKEN_WORDS = """() => {
  const broken = [];
  const table = document.getElementById('audit-table');
  const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('code')) continue;
    for (const match of node.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      if (range.getClientRects().length > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


async def test_the_audit_log_shows_reasons_and_rules_filters_and_downloads(
    browser: Browser, server: RunningServer, tmp_path: Path
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host)
    await host_joins(host, meeting)
    await join(bob, meeting.join_url)
    await admit(host, "Bob Smith")
    await wait_for_screen(bob, "meeting")
    await bob.page.click("#mic-button")  # refused: the hand is not raised
    await expect(bob.page.locator("#mic-why.refused")).to_be_visible()
    await open_tab(host, "audit")
    rows = host.page.locator("#audit-rows tr")
    await expect(rows.filter(has_text="admitted_by_host")).to_have_count(1)
    refused = rows.filter(has_text="unmute_needs_raised_hand")
    await expect(refused).to_have_count(1)
    await expect(refused).to_contain_text("/audio/unmute")
    await expect(refused).to_contain_text("Bob Smith")
    # Readable: whole words, one vocabulary (Allowed or Refused; each action said as what
    # was asked), the sentence with its reason code and rule, the person by name.
    await expect(refused.locator(".verdict")).to_have_text("Refused")
    await expect(refused.locator(".audit-action")).to_have_text("Unmute")
    await expect(refused.locator(".audit-person")).to_have_text("Bob Smith")
    await expect(refused.locator(".audit-sentence")).to_have_text(
        "Raise your hand; the host will let you speak."
    )
    await expect(refused.locator(".audit-codes")).to_have_text(
        "Reason unmute_needs_raised_hand, rule /audio/unmute"
    )
    admitted = rows.filter(has_text="admitted_by_host")
    await expect(admitted.locator(".audit-person")).to_have_text("Bob Smith")
    await expect(admitted.locator(".audit-by")).to_have_text("by Alice Chen")
    await expect(admitted.locator(".audit-action")).to_have_text("Admit")
    verdicts = await rows.locator(".verdict").all_inner_texts()
    assert set(verdicts) == {"Allowed", "Refused"}
    actions = await rows.locator(".audit-action").all_inner_texts()
    choices = await host.page.locator("#audit-event option").all_inner_texts()
    for words in actions + choices:
        assert "_" not in words, words
        assert words[0].isupper(), words
    assert await host.page.evaluate(BROKEN_WORDS) == []
    await host.page.select_option("#audit-decision", "false")
    await host.page.click('#audit-filters button[type="submit"]')
    await expect(rows).to_have_count(1)
    await host.page.fill("#audit-text", "nothing matches this")
    await expect(rows).to_have_count(0)
    await host.page.fill("#audit-text", "")
    await host.page.select_option("#audit-decision", "")
    async with host.page.expect_download() as downloading:
        await host.page.click("#audit-download")
    download = await downloading.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert {line["decision"]["reason"] for line in lines} >= {
        "host_joined",
        "admitted_by_host",
        "unmute_needs_raised_hand",
    }
    for person in (bob, host):
        await person.close()


UNLABELLED = """() => [...document.querySelectorAll('button, input, select, textarea, summary')]
  .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
  .filter((el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
    if (el.labels && el.labels.length) return false;
    return !(el.textContent.trim() || el.value && el.type === 'submit');
  })
  .map((el) => el.outerHTML.slice(0, 80))"""


async def test_every_control_is_labelled_and_reachable_from_the_keyboard(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    meeting = await create_meeting(host)
    page = host.page
    await page.goto(meeting.host_link)
    # Joining with the keyboard alone: Tab to the name, type it, Enter.
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.id") == "join-name":
            break
    await page.keyboard.type("Alice Chen")
    await page.keyboard.press("Enter")
    await wait_for_screen(host, "meeting")
    await open_tab(host, "people")
    assert await page.evaluate(UNLABELLED) == []
    reached: set[str] = set()
    for _ in range(40):
        await page.keyboard.press("Tab")
        reached.add(await page.evaluate("() => document.activeElement.id"))
    wanted = {"mic-button", "camera-button", "hand-button", "share-button", "leave-button"}
    assert wanted <= reached, wanted - reached
    assert {"tab-people", "lock-button"} <= reached
    # The tabs move with the arrow keys.
    await page.focus("#tab-people")
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("#tab-rules")).to_be_focused()
    await expect(page.locator("#panel-rules")).to_be_visible()
    await host.close()


async def test_the_host_grants_files_for_a_chosen_time_and_promotes_a_cohost(
    browser: Browser, server: RunningServer
) -> None:
    policy = {"file_share": {"allowed": "with_grant"}, "screen_share": {"allowed": "host_only"}}
    host, bob, _ = await host_and_guest(browser, server.url, policy)
    await open_tab(host, "people")
    row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await row.locator("summary").click()
    await row.get_by_label("Sharing allowed for").select_option(label="5 minutes")
    await row.get_by_role("button", name="Allow files").click()
    status = host.page.locator("#console-status")
    await expect(status).to_have_text("Bob Smith may share files for 5 minutes.")
    await row.get_by_role("button", name="Revoke files").click()
    await expect(status).to_have_text("Bob Smith can no longer share files.")
    # Nothing left to revoke: the button goes.
    await expect(row.get_by_role("button", name="Revoke files")).to_be_hidden()
    # A refusal is shown with its reason and rule, not swallowed.
    await row.get_by_role("button", name="Allow screen sharing").click()
    await expect(status).to_contain_text("refused. Sharing here is 'host_only'")
    await expect(status).to_contain_text("reason grants_not_used, rule /screen_share/allowed")
    await expect(host.page.locator("#result-log li")).to_have_count(3)
    await row.get_by_role("button", name="Make co-host").click()
    await expect(status).to_have_text("Bob Smith is now a co-host.")
    await expect(row.locator(".badge")).to_have_text("Co-host")
    # Bob gets the console (without the audit log: that needs the host's link).
    await expect(bob.page.locator("#tab-policy")).to_be_visible()
    await expect(bob.page.locator("#tab-audit")).to_be_hidden()
    await open_tab(bob, "people")
    await expect(bob.page.locator("#host-tools")).to_be_visible()
    for person in (bob, host):
        await person.close()
