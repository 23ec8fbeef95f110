"""Hosting in real Chromium: the first account from the printed link, signing in and out,
and the API reference, each page under the app's CSP with nothing from elsewhere."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from support.browser import create_meeting, hold_requests, open_person, sign_in
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]
SETUP_LINK = re.compile(r"http://\S+/setup#token=[A-Za-z0-9_-]+")


async def printed_link(server: RunningServer) -> str:
    for _ in range(600):
        for line in list(server.log):
            found = SETUP_LINK.search(line)
            if found:
                return found.group(0)
        await asyncio.sleep(0.05)  # the log is read by another thread
    raise AssertionError("the server printed no set-up link:\n" + "".join(server.log[-20:]))


async def test_the_printed_link_sets_up_the_first_host_who_creates_a_meeting_and_signs_out(
    browser: Browser, tmp_path: Path
) -> None:
    server = RunningServer(tmp_path / "data", provision=False).start()
    try:
        link = await printed_link(server)
        ada = await open_person(browser, server.url, "Ada Lovelace")
        page = ada.page
        await page.goto("/")
        await expect(page).to_have_url(f"{server.url}/sign-in")  # not signed in: sign in first
        await page.goto(link)
        await expect(page.locator("#setup-title")).to_be_visible()
        # The token leaves the address bar once the page's script runs (the title shows
        # before it: the script is a module, run after the page is parsed).
        await expect(page).not_to_have_url(re.compile("#token="))
        await page.fill("#username", "ada")
        await page.fill("#password", "analytical engine 1843")
        await page.fill("#password-again", "analytical engine 1842")
        await page.click("#set-up")
        await expect(page.locator("#password-again-error")).to_have_text(
            "The two passwords differ."
        )
        await page.fill("#password-again", "analytical engine 1843")
        await page.click("#set-up")
        await expect(page).to_have_url(f"{server.url}/")
        await expect(page.locator("#account-name")).to_have_text("ada")
        meeting = await create_meeting(ada, {"name": "Notes on the engine"})
        assert meeting.host_link.startswith(f"{server.url}/m/")
        await page.click("#sign-out")
        await expect(page).to_have_url(f"{server.url}/sign-in")
        await page.goto("/")
        await expect(page).to_have_url(f"{server.url}/sign-in")
        # The link was used up: opening it again makes no second account.
        await page.goto(link)
        await page.fill("#username", "mallory")
        await page.fill("#password", "not to be allowed in")
        await page.fill("#password-again", "not to be allowed in")
        await page.click("#set-up")
        await expect(page.locator("#setup-error")).to_contain_text("used already or has expired")
        await ada.close()  # no page errors, no request to another origin
    finally:
        server.stop()


async def test_a_wrong_password_shows_the_servers_sentence_and_the_right_one_signs_in(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    page = host.page
    await page.goto("/sign-in")
    await page.fill("#username", "alice")
    await page.fill("#password", "not her password")
    await page.click("#sign-in")
    await expect(page.locator("#sign-in-error")).to_have_text(
        "The username or the password is wrong."
    )
    await sign_in(host)
    await expect(page.locator("#account-name")).to_have_text("alice")
    await host.close()


async def test_typing_while_the_sign_in_page_asks_for_the_session_keeps_the_focus_there(
    browser: Browser, server: RunningServer
) -> None:
    """The form is usable as soon as its button is: what someone types while the page
    still waits for GET /api/session stays where they typed it when the answer comes."""
    host = await open_person(browser, server.url, "Alice Chen")
    page = host.page
    await page.goto("/sign-in")
    await sign_in(host)  # signed in: the answer, when it comes, shows "You are signed in"
    answered = await hold_requests(page, "**/api/session")
    await page.goto("/sign-in")
    await expect(
        page.locator("#sign-in")
    ).to_be_enabled()  # the script runs; the session is asked for
    await page.locator("#password").press_sequentially("typed early")
    answered.set()
    await expect(page.locator("#signed-in")).to_be_visible()
    await expect(page.locator("#password")).to_be_focused()
    await expect(page.locator("#password")).to_have_value("typed early")
    await page.unroute("**/api/session")
    await host.close()


async def test_the_create_button_waits_for_the_session_it_sends_as(
    browser: Browser, server: RunningServer
) -> None:
    """A click on "Create the meeting" while the page still waits for GET /api/session
    would be sent without the session's CSRF token and refused ("Missing CSRF token"):
    the button is enabled once the session is known, and the meeting is then created."""
    host = await open_person(browser, server.url, "Alice Chen")
    page = host.page
    await sign_in(host)
    answered = await hold_requests(page, "**/api/session")
    await page.goto("/")
    # The script has run (the starter policy is in the editor); the session is asked for.
    await expect(page.locator(".plain-words-list li").first).to_be_visible()
    await expect(page.locator("#create")).to_be_disabled()
    answered.set()
    await page.click("#create")
    await expect(page.locator("#created")).to_be_visible()
    await expect(page.locator("#create-error")).to_be_hidden()
    await page.unroute("**/api/session")
    await host.close()


async def test_the_api_reference_renders_from_this_server_alone(
    browser: Browser, server: RunningServer
) -> None:
    reader = await open_person(browser, server.url, "Reader")
    await reader.page.goto("/docs")
    await expect(
        reader.page.get_by_role("heading", name="POST /api/meetings", exact=True)
    ).to_be_visible()
    await expect(reader.page.locator("#docs-error")).to_be_hidden()
    assert await reader.page.locator("#docs-operations section").count() > 10
    await reader.close()  # no page errors (Trusted Types), no request to another origin


@pytest.mark.parametrize(
    ("path", "field", "button"),
    [("/sign-in", "#password", "#sign-in"), ("/setup", "#password", "#set-up")],
)
async def test_before_the_pages_script_runs_enter_never_sends_a_password_in_a_url(
    browser: Browser, server: RunningServer, path: str, field: str, button: str
) -> None:
    """A form pressed before its script ran (slow network, scripts blocked) does not
    submit natively: a GET would put the password in the address bar, the history and
    the server's access log."""
    context = await browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        page = await context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        await page.goto(path)
        await expect(page.locator(button)).to_be_disabled()
        await page.fill(field, "a secret passphrase")
        await page.press(field, "Enter")
        await page.locator(button).click(force=True)
        await page.goto(path)  # anything the presses sent is requested before this
        assert not any("passphrase" in url for url in requested), requested
        assert [url for url in requested if url.split("?")[0].endswith(path)] == [
            f"{server.url}{path}",
            f"{server.url}{path}",
        ]
    finally:
        await context.close()
