"""Creating a meeting and joining it, in real Chromium: policies, refusals, the waiting room."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.async_api import Browser, expect
from support.browser import (
    TIMEOUT_MS,
    Person,
    create_meeting,
    hold_requests,
    join,
    open_person,
    screenshot,
    sign_in,
    wait_for_screen,
)
from support.server import RunningServer

from meetwarden.server.web import WEB_ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
HTML_SINKS = re.compile(r"\.(?:inner|outer)HTML|insertAdjacentHTML|document\.write|srcdoc")


async def test_a_one_word_name_is_refused_with_a_sentence_and_what_to_do_next(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    guest = await open_person(browser, server.url, "Bob")
    meeting = await create_meeting(host, {"name": "Design review"})
    page = guest.page
    await page.goto(meeting.join_url)
    await expect(page.locator("#join-title")).to_have_text("Join the meeting")
    await page.fill("#join-name", "Bob")
    # The camera preview plays the fake camera before joining; devices can be picked.
    await page.wait_for_function(
        "() => document.querySelector('#preview').videoWidth > 0", timeout=TIMEOUT_MS
    )
    await expect(page.locator("#camera-select option")).not_to_have_count(0)
    await screenshot(guest, "join", docs=True)
    await page.click("#join-button")
    refusal = page.locator("#join-refusal")
    await expect(refusal).to_be_visible()
    await expect(page.locator("#refusal-message")).to_have_text(
        "The host requires your full name: first and last name."
    )
    # A participant reads sentences: the reason code and the rule are for hosts.
    await expect(page.locator("#refusal-rule")).to_be_hidden()
    await expect(page.locator("body")).not_to_contain_text("name_too_short")
    await expect(page.locator("body")).not_to_contain_text("/entry/full_name")
    await expect(page.locator("#refusal-next")).to_have_text(
        "Type your first and last name, then join again."
    )
    await expect(page.locator("#join-name")).to_have_attribute("aria-invalid", "true")
    await screenshot(guest, "join-refused", docs=True)
    # What to do next works: a full name gets into the waiting room.
    await page.fill("#join-name", "Bob Smith")
    await page.click("#join-button")
    await wait_for_screen(guest, "waiting")
    await guest.close()
    await host.close()


async def test_a_wrong_password_gets_the_same_vague_answer_as_a_wrong_link(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    guest = await open_person(browser, server.url, "Bob Smith")
    meeting = await create_meeting(host, {"entry": {"password": True}}, password="tulip-42-x")
    await join(guest, meeting.join_url, password="not-it")
    await expect(guest.page.locator("#refusal-message")).to_have_text(
        "Could not join: check the meeting link and the password."
    )
    await expect(guest.page.locator("#refusal-rule")).to_be_hidden()
    await expect(guest.page.locator("#refusal-next")).to_have_text(
        "Check the meeting link and the password, then join again."
    )
    await guest.page.fill("#join-password", "tulip-42-x")
    await guest.page.click("#join-button")
    await wait_for_screen(guest, "waiting")
    await guest.close()
    await host.close()


async def test_the_join_button_waits_until_the_requirements_are_on_the_page(
    browser: Browser, server: RunningServer
) -> None:
    """The requirements box above the form appears, and the password field goes, when
    GET /entry answers: both move the Join button, so a press before that could land beside
    it (CI: a guest's click started no join). The button is unavailable until they are
    shown; Enter in the form still joins, once the page knows what the meeting asks."""
    host = await open_person(browser, server.url, "Alice Chen")
    meeting = await create_meeting(host, {"name": "Design review"})
    for way in ("click", "enter"):
        guest = await open_person(browser, server.url, "Bob Smith")
        page = guest.page
        answered = await hold_requests(page, "**/entry")
        await page.goto(meeting.join_url)
        await page.fill("#join-name", "Bob Smith")
        # The page's script runs (the devices are listed) while the rules are held.
        await expect(page.locator("#camera-select option")).not_to_have_count(2)
        await expect(page.locator("#join-button")).to_be_disabled()
        await expect(page.locator("#password-field")).to_be_visible()
        if way == "enter":
            await page.press("#join-name", "Enter")
            await expect(page.locator("#join-button")).to_have_text("Joining…")
        answered.set()
        # The rules are shown (and the password field goes) before the join goes on; after
        # Enter the page may already have moved on to the waiting room.
        await expect(page.locator("#join-rules-list li").first).to_be_attached()
        await expect(page.locator("#password-field")).to_be_hidden()
        if way == "click":
            await page.click("#join-button")
        await wait_for_screen(guest, "waiting")
        await page.unroute("**/entry")
        await guest.close()
    await host.close()


async def test_a_host_starts_from_an_example_and_reads_it_in_plain_words(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    page = host.page
    await sign_in(host)  # ends on the create page
    await page.select_option("#example", "board_meeting")
    await page.click("#use-example")
    plain = page.locator(".plain-words-list")
    await expect(plain).to_contain_text("A password is needed to join")
    await expect(plain.locator('li[data-rule="/entry/password"]')).to_be_visible()
    text = await page.locator("textarea.code-input").input_value()
    assert json.loads(text)["name"] == "Quarterly board meeting"
    # The example needs a password: creating without one says so at the password field.
    await page.click("#create")
    await expect(page.locator("#password-error")).to_contain_text("requires a password")
    await expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    await page.fill("#password", "board-2024-q3")
    await page.click("#create")
    await expect(page.locator("#created")).to_be_visible()
    # A policy can also come from a file.
    await page.set_input_files(
        "#upload",
        files=[
            {"name": "mine.json", "mimeType": "application/json", "buffer": b'{"name": "Mine"}'}
        ],
    )
    await expect(page.locator("#start-status")).to_have_text("Loaded mine.json.")
    await expect(plain).to_contain_text("No password is needed to join")
    await expect(page.locator("#join-link")).to_have_value(
        f"{server.url}/m/" + (await page.input_value("#join-link")).rsplit("/m/", 1)[1]
    )
    assert "#host=" in await page.input_value("#host-link")
    await host.close()


async def test_the_policy_editor_marks_each_error_at_the_field_it_points_to(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    page = host.page
    await sign_in(host)  # ends on the create page
    policy = (
        "{\n"
        '  "name": "Board",\n'
        '  "entry": {\n'
        '    "max_participants": 1,\n'
        '    "waiting_rom": {"enabled": true}\n'
        "  }\n"
        "}\n"
    )
    await page.locator("textarea.code-input").fill(policy)
    errors = page.locator(".editor-error")
    await expect(errors).to_have_count(2)
    first = page.locator('.editor-error[data-pointer="/entry/max_participants"]')
    await expect(first).to_contain_text("Line 4")
    await expect(first).to_contain_text("greater than or equal to 2")
    await expect(first.locator(".error-excerpt")).to_have_text('    "max_participants": 1,')
    unknown = page.locator('.editor-error[data-pointer="/entry/waiting_rom"]')
    await expect(unknown).to_contain_text("unknown field 'waiting_rom'")
    # The text itself is marked at both fields, and the gutter flags their lines.
    marks = page.locator(".code-backdrop mark.error-mark")
    await expect(marks).to_have_count(2)
    await expect(marks.first).to_have_text('"max_participants": 1')
    await expect(page.locator('.gutter-line.has-error[data-line="4"]')).to_be_visible()
    await expect(page.locator("textarea.code-input")).to_have_attribute("aria-invalid", "true")
    # Choosing an error puts the caret on the field; the help line repeats the error there.
    await first.locator("button").click()
    await expect(page.locator(".field-help")).to_contain_text("/entry/max_participants")
    await expect(page.locator(".field-help")).to_contain_text("Error:")
    await screenshot(host, "policy-editor-error", docs=True)
    # Creating anyway is refused by the server with the same pointers.
    await page.click("#create")
    await expect(page.locator("#create-error")).to_contain_text("The policy has 2 errors: ")
    await expect(page.locator("#created")).to_be_hidden()
    # A syntax error is placed too, before the server is asked.
    await page.locator("textarea.code-input").fill('{\n  "name": "x",\n  "chat": }\n')
    await expect(page.locator('.editor-error[data-line="3"]')).to_contain_text("not valid JSON")
    await host.close()


async def test_the_editor_marks_what_this_server_cannot_do_and_creating_is_refused(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    page = host.page
    await sign_in(host)  # ends on the create page; this server has no clamd
    policy = '{\n  "name": "Scanned",\n  "file_share": {"allowed": "anyone", "scan": true}\n}\n'
    await page.locator("textarea.code-input").fill(policy)
    problem = page.locator('.editor-error[data-pointer="/file_share/scan"]')
    await expect(problem).to_contain_text("This server has no virus scanner (clamd)")
    await expect(problem).to_contain_text("set file_share.scan to false")
    await expect(page.locator(".editor-errors .error-title")).to_contain_text(
        "This server cannot do what the policy asks"
    )
    # The policy is valid: its plain words stay beside the problem.
    await expect(page.locator(".plain-words-list li").first).to_be_visible()
    await page.click("#create")
    await expect(page.locator("#create-error")).to_contain_text(
        "This server cannot do what the policy asks (1 problem)"
    )
    await expect(page.locator("#created")).to_be_hidden()
    await expect(page.locator(".plain-words-list li").first).to_be_visible()
    # Fixed as the sentence says, the meeting is created.
    await page.locator("textarea.code-input").fill(policy.replace("true", "false"))
    await expect(page.locator(".editor-error")).to_have_count(0)
    await page.click("#create")
    await expect(page.locator("#created")).to_be_visible()
    await host.close()


async def test_pages_carry_a_strict_content_security_policy(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        pages = ("/sign-in", "/setup", "/docs", "/m/abc_DEF-123")  # "/" wants a session
        for path in (*pages, "/assets/js/meeting.js", "/assets/css/app.css"):
            response = await client.get(path)
            assert response.status_code == 200, path
            policy = response.headers["content-security-policy"]
            assert "default-src 'self'" in policy
            assert "script-src 'self'" in policy
            assert "unsafe-inline" not in policy
            assert "require-trusted-types-for 'script'" in policy
            assert response.headers["x-content-type-options"] == "nosniff"
        assert (
            (await client.get("/assets/js/meeting.js"))
            .headers["content-type"]
            .startswith("text/javascript")
        )
        for probe in ("/assets/../web.py", "/assets/js/../../web.py", "/assets/JS/x.js", "/m/a/b"):
            assert (await client.get(probe)).status_code == 404, probe
        etag = (await client.get("/assets/js/dom.js")).headers["etag"]
        cached = await client.get("/assets/js/dom.js", headers={"If-None-Match": etag})
        assert cached.status_code == 304


def test_the_client_loads_nothing_from_another_origin() -> None:
    for file in WEB_ROOT.rglob("*"):
        if file.suffix in (".html", ".js", ".css"):
            text = file.read_text()
            assert "http://" not in text, file
            assert "https://" not in text, file
            assert not HTML_SINKS.search(text), f"{file} writes HTML from a string"
        if file.suffix == ".html":
            # No inline script or style: the CSP would refuse them anyway.
            assert "<script>" not in text, file
            assert " style=" not in text, file
            assert "<style" not in text, file


async def test_the_join_page_reads_at_200_percent_zoom(
    browser: Browser, server: RunningServer
) -> None:
    # 200% zoom of a 1280-pixel-wide window is a 640-CSS-pixel viewport.
    person: Person = await open_person(browser, server.url, "Bob Smith", width=640, height=400)
    for path in ("/", "/m/some-meeting-id"):
        await person.page.goto(path)
        await expect(person.page.locator("h1:visible")).to_have_count(1)
        overflow = await person.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways at 200% zoom"
    await person.close()
