"""How the client looks and the small comforts, in real Chromium: dark mode follows the
system and every page stays readable; on a phone the controls stay on screen and the
side panel is a drawer; on a laptop the side panel never squeezes the video; toasts
never cover a control; "Copy link" copies the participants' link and nothing secret;
the join page remembers the last name used."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from support.browser import (
    COVERED_CONTROLS,
    Person,
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

PHONE = {"width": 390, "height": 844}

# Every visible piece of text, with the contrast of its colour against what is behind it
# (WCAG 2.2 relative luminance; semi-transparent backgrounds blended onto their parents').
# The video stage is left out: it is dark by design in both schemes, and a disabled
# control is exempt (WCAG 1.4.3).
CONTRAST = """() => {
  const rgba = (css) => {
    const parts = css.match(/[\\d.]+/g).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const channel = (value) => {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ({ r, g, b }) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const behind = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a >= 1) break;
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const ratio = (one, two) => {
    const [light, dark] = [luminance(one), luminance(two)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  const texts = [...document.querySelectorAll('body *')].filter((element) => {
    if (['SCRIPT', 'STYLE', 'OPTION', 'VIDEO'].includes(element.tagName)) return false;
    const exempt = '.stage, .visually-hidden, :disabled, [aria-disabled="true"]';
    if (element.closest(exempt)) return false;
    if (!element.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const ownText = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const field = ['INPUT', 'SELECT', 'TEXTAREA'].includes(element.tagName);
    return ownText || field;
  });
  const found = texts.map((element) => {
    const colour = rgba(getComputedStyle(element).color);
    if (colour.a === 0) return null;
    const background = behind(element);
    return {
      ratio: Math.round(ratio(over(colour, background), background) * 100) / 100,
      what: `${element.tagName.toLowerCase()}#${element.id}.${element.className}: `
        + (element.value || element.textContent).trim().slice(0, 40),
    };
  }).filter(Boolean);
  return {
    body: luminance(behind(document.body)),
    text: luminance(rgba(getComputedStyle(document.body).color)),
    count: found.length,
    poor: found.filter((each) => each.ratio < 4.5),
  };
}"""


async def _readable(page: Page, where: str, scheme: str) -> None:
    """The page's background is that of the scheme and every text on it reads (>= 4.5:1)."""
    await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    found: dict[str, Any] = await page.evaluate(CONTRAST)
    assert found["count"] > 3, f"{where}: no text found"
    if scheme == "dark":
        assert found["body"] < 0.05, f"{where}: the background is not dark"
        assert found["text"] > 0.6, f"{where}: the text is not light"
    else:
        assert found["body"] > 0.8, f"{where}: the background is not light"
    assert not found["poor"], f"{where} ({scheme}): text below 4.5:1: {found['poor']}"


async def _both_schemes(page: Page, where: str) -> None:
    for scheme in ("dark", "light"):
        await _readable(page, where, scheme)


async def test_dark_mode_follows_the_system_and_every_page_reads(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    page = host.page
    await page.goto("/sign-in")
    await _both_schemes(page, "sign-in")
    await page.goto("/setup")
    await expect(page.locator("#no-token")).to_be_visible()
    await _both_schemes(page, "set-up")
    await page.goto("/docs")
    await expect(page.locator("#docs-contents li").first).to_be_visible()
    await _both_schemes(page, "API reference")
    await sign_in(host)
    await expect(page.locator(".plain-words-list li").first).to_be_visible()
    await _both_schemes(page, "create")
    # An error in the policy: marked at its field, listed, explained.
    await page.locator("textarea.code-input").fill('{"chat": {"allowed": "sometimes"}}')
    await expect(page.locator(".editor-errors")).to_be_visible()
    await _both_schemes(page, "create, with an error")
    meeting = await create_meeting(host, {"name": "Design review"})
    await _both_schemes(page, "create, the links")
    await bob.page.goto(meeting.join_url)
    await expect(bob.page.locator("#join-rules")).to_be_visible()
    await _both_schemes(bob.page, "join")
    await host_joins(host, meeting)
    await join(bob, meeting.join_url)
    await wait_for_screen(bob, "waiting")
    await _both_schemes(bob.page, "waiting room")
    await expect(page.locator("#waiting-prompt")).to_be_visible()
    for tab in ("chat", "files", "people", "rules", "policy", "audit"):
        await open_tab(host, tab)
        await _both_schemes(page, f"meeting, {tab}")
    # The video tiles are the same in both: dark, with light labels.
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        stage = await page.evaluate(
            "() => getComputedStyle(document.querySelector('.stage')).backgroundColor"
        )
        assert stage == "rgb(21, 24, 29)", scheme
    for person in (bob, host):
        await person.close()


ON_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const height = document.documentElement.clientHeight;
  return [...document.querySelectorAll('.controls button')]
    .filter((button) => button.checkVisibility())
    .map((button) => {
      const box = button.getBoundingClientRect();
      const seen = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      return {
        name: button.id,
        inside: box.left >= 0 && box.top >= 0 && box.right <= width && box.bottom <= height,
        clickable: Boolean(seen && button.contains(seen)),
      };
    });
}"""
SCROLLS = """() => {
  const stage = document.querySelector('.stage-scroll');
  return stage.scrollHeight > stage.clientHeight;
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def _controls_on_screen(person: Person) -> None:
    controls = await person.page.evaluate(ON_SCREEN)
    names = {control["name"] for control in controls}
    assert {"mic-button", "camera-button", "share-button", "leave-button", "side-toggle"} <= names
    assert all(c["inside"] and c["clickable"] for c in controls), controls
    assert await person.page.evaluate(SIDEWAYS) <= 0, "the page scrolls sideways"


async def test_on_a_phone_the_controls_stay_on_screen_and_the_side_panel_is_a_drawer(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen", **PHONE)
    bob = await open_person(browser, server.url, "Bob Smith")
    carol = await open_person(browser, server.url, "Carol Jones")
    meeting = await create_meeting(host, {"name": "Design review"})
    await host_joins(host, meeting)
    page = host.page
    await _controls_on_screen(host)
    # Someone waits: the host sees it above the video, with the panel closed.
    await join(bob, meeting.join_url)
    prompt = page.locator("#waiting-prompt")
    await expect(prompt).to_contain_text("Bob Smith is waiting to join.")
    await expect(page.locator("#side-toggle")).to_have_attribute("aria-expanded", "false")
    await expect(page.locator("#tabs")).to_be_hidden()
    await expect(page.locator("#side-count")).to_have_text("1")
    await prompt.get_by_role("button", name="Admit", exact=True).click()
    await wait_for_screen(bob, "meeting")
    await join(carol, meeting.join_url)
    await prompt.get_by_role("button", name="Admit", exact=True).click()
    await wait_for_screen(carol, "meeting")
    await expect(page.locator("#grid .tile")).to_have_count(3)
    # Three people fill more than the screen: the video scrolls, the controls stay.
    await _controls_on_screen(host)
    assert await page.evaluate(SCROLLS)
    # The drawer opens over the video; the controls stay usable under it; Escape closes it.
    await bob.page.fill("#chat-input", "Hello from Bob")
    await bob.page.press("#chat-input", "Enter")
    await expect(page.locator("#side-count")).to_have_text("1")
    await page.click("#side-toggle")
    await expect(page.locator("#tab-chat")).to_be_focused()
    await expect(page.locator("#chat-log li")).to_contain_text(["Hello from Bob"])
    await expect(page.locator("#side-count")).to_be_hidden()
    await expect(page.locator("#chat-input")).to_be_in_viewport()
    await _controls_on_screen(host)
    await page.keyboard.press("Escape")
    await expect(page.locator("#side-toggle")).to_have_attribute("aria-expanded", "false")
    await expect(page.locator("#side-toggle")).to_be_focused()
    await expect(page.locator("#grid .tile").first).to_be_in_viewport()
    for person in (carol, bob, host):
        await person.close()


STAGE = """() => {
  const stage = document.querySelector('.stage').getBoundingClientRect();
  const tiles = [...document.querySelectorAll('#grid .tile')]
    .map((tile) => tile.getBoundingClientRect().width);
  return { stage: stage.width, share: stage.width / document.documentElement.clientWidth,
           smallestTile: Math.min(...tiles) };
}"""


async def test_on_a_laptop_the_side_panel_never_squeezes_the_video(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, _ = await host_and_guest(browser, server.url)
    await expect(host.page.locator("#grid .tile")).to_have_count(2)
    chat = await host.page.evaluate(STAGE)
    for tab in ("people", "policy", "audit", "files", "rules"):
        await open_tab(host, tab)
        seen = await host.page.evaluate(STAGE)
        # Opening a wide tool (the policy editor, the audit log) takes nothing from the video.
        assert seen["stage"] == chat["stage"], (tab, seen, chat)
        assert seen["share"] >= 0.6, (tab, seen)
        assert seen["smallestTile"] >= 240, (tab, seen)  # 15rem: a face stays a face
    for person in (bob, host):
        await person.close()


async def test_toasts_never_cover_a_control_on_a_phone_or_a_laptop(
    browser: Browser, server: RunningServer
) -> None:
    for size in (PHONE, {"width": 1280, "height": 800}):
        host = await open_person(browser, server.url, "Alice Chen", **size)
        meeting = await create_meeting(host, {"entry": {"waiting_room": {"enabled": False}}})
        await host_joins(host, meeting)
        await open_tab(host, "people")
        lock = host.page.locator("#lock-button")
        # Results in a row: toasts pile up (four at most), each over the video only.
        for _ in range(3):
            await lock.click()
            await expect(lock).to_have_attribute("aria-pressed", "true")
            await lock.click()
            await expect(lock).to_have_attribute("aria-pressed", "false")
        await expect(host.page.locator("#toasts .toast").nth(1)).to_be_attached()
        assert await host.page.evaluate(COVERED_CONTROLS) == [], size
        if size == PHONE:
            await host.page.click("#side-toggle")  # the drawer closes: the video and its toasts
            await expect(host.page.locator("#toasts .toast").first).to_be_in_viewport()
            assert await host.page.evaluate(COVERED_CONTROLS) == [], size
        await host.close()


CLIPBOARD = ["clipboard-read", "clipboard-write"]


async def test_copy_link_copies_the_participants_link_and_nothing_secret(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, meeting = await host_and_guest(browser, server.url)
    host_token = meeting.host_link.split("#host=", 1)[1]
    for person in (host, bob):
        await person.context.grant_permissions(CLIPBOARD, origin=server.url)
        await open_tab(person, "people")
        button = person.page.locator("#copy-share-link")
        await expect(button).to_have_text("Copy link")
        await button.click()
        await expect(button).to_have_text("Copied")
        copied = await person.page.evaluate("() => navigator.clipboard.readText()")
        assert copied == meeting.join_url, person.name
        assert host_token not in copied
        assert "#" not in copied
        assert "?" not in copied
        await expect(button).to_have_text("Copy link")
    # Where the clipboard cannot be written, the link is selected for the person to copy.
    await bob.page.evaluate(
        "() => { navigator.clipboard.writeText = () => Promise.reject(new Error('denied')); }"
    )
    await bob.page.click("#copy-share-link")
    await expect(bob.page.locator("#copy-share-link")).to_have_text("Press Ctrl+C to copy")
    selected = await bob.page.evaluate(
        "() => { const i = document.activeElement;"
        " return i.id === 'share-link-input' && i.value.slice(i.selectionStart, i.selectionEnd); }"
    )
    assert selected == meeting.join_url
    for person in (bob, host):
        await person.close()


async def test_with_personal_invites_only_there_is_no_link_to_pass_on(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    meeting = await create_meeting(host, {"entry": {"identity": "invited"}})
    await host_joins(host, meeting)
    await open_tab(host, "people")
    await expect(host.page.locator("#roster li")).to_have_count(1)
    await expect(host.page.get_by_role("button", name="Copy link")).to_be_hidden()
    await expect(host.page.get_by_role("button", name="Create an invite link")).to_be_visible()
    await host.close()


async def test_the_join_page_remembers_the_name_that_got_in_and_can_forget_it(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host, {"entry": {"waiting_room": {"enabled": False}}})
    await host_joins(host, meeting)
    page = bob.page
    name = page.locator("#join-name")
    remembered = page.locator("#join-name-remembered")
    # A refused name is not remembered.
    await join(bob, meeting.join_url, name="Bob")
    await expect(page.locator("#join-refusal")).to_be_visible()
    await page.reload()
    await expect(name).to_have_value("")
    await expect(remembered).to_be_hidden()
    # The name that got in is offered next time, and said to be remembered.
    await join(bob, meeting.join_url, name="Bob Smith")
    await wait_for_screen(bob, "meeting")
    await page.click("#leave-button")
    await wait_for_screen(bob, "ended")
    await page.goto(meeting.join_url)
    await expect(name).to_have_value("Bob Smith")
    await expect(remembered).to_be_visible()
    # Typing another name: "remembered" no longer holds.
    await name.fill("Robert Smith")
    await expect(remembered).to_be_hidden()
    await name.fill("Bob Smith")
    await expect(remembered).to_be_visible()
    # Forgetting it empties the field, here and next time.
    await page.get_by_role("button", name="Forget it").click()
    await expect(name).to_have_value("")
    await expect(name).to_be_focused()
    await page.reload()
    await expect(name).to_have_value("")
    await expect(remembered).to_be_hidden()
    for person in (bob, host):
        await person.close()
