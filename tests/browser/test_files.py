"""Sharing files in real Chromium: the Files panel against a real server.

A host grants file sharing, a participant shares a real PDF and another
downloads it byte for byte (Playwright's download event); a program named
.pdf is refused with the server's sentence on screen (a host also reads the
reason code and rule); on a throttled link the progress bar moves and Cancel
stops the upload; without a grant the control says why, and a client that
tries anyway is shown the server's refusal. No media is needed: these pass
with --no-media too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from support.browser import (
    Person,
    create_meeting,
    host_joins,
    join,
    open_person,
    open_tab,
    screenshot,
    wait_for_screen,
)
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]

GRANTED_FILES = {
    "entry": {"waiting_room": {"enabled": False}},
    "file_share": {"allowed": "with_grant"},
}
# A Windows program's header: the server knows it for what it is, whatever the name says.
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240


def minimal_pdf(text: str = "Q3 numbers") -> bytes:
    """A real one-page PDF with one line of text, its cross-reference offsets computed."""
    content = f"BT /F1 18 Tf 20 50 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PDF = minimal_pdf()

# Records every stage the progress box shows (asking, sending, checking), since a
# small file on loopback goes by faster than a poll could see it.
WATCH_PROGRESS = """() => {
  window.stages = [];
  const box = document.getElementById('file-progress');
  new MutationObserver(() => {
    const stage = box.dataset.stage;
    if (stage && window.stages.at(-1) !== stage) window.stages.push(stage);
  }).observe(box, { attributes: true, attributeFilter: ['data-stage'] });
}"""


async def _in_meeting(person: Person, url: str) -> None:
    await join(person, url)
    await wait_for_screen(person, "meeting")


async def test_a_granted_pdf_is_downloaded_intact_by_another_and_a_disguised_program_is_refused(
    browser: Browser, server: RunningServer, tmp_path: Path
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    carol = await open_person(browser, server.url, "Carol Jones")
    meeting = await create_meeting(host, GRANTED_FILES)
    await host_joins(host, meeting)
    await _in_meeting(bob, meeting.join_url)
    await _in_meeting(carol, meeting.join_url)
    page = bob.page

    # Without a grant the control is off and says why; Bob asks the host from the panel.
    await open_tab(bob, "files")
    await expect(page.locator("#file-input")).to_be_disabled()
    await expect(page.locator("#file-why")).to_have_text(
        "Ask the host for permission to share files first."
    )
    await expect(page.locator("#file-limits")).to_contain_text("Up to 10.0 MB; accepted:")
    await page.click("#file-ask")
    await expect(page.locator("#file-why")).to_have_text(
        "The host has been asked; you can share once they allow it."
    )
    await open_tab(host, "people")
    request = host.page.locator('#requests li[data-topic="share_requested"]')
    await expect(request).to_contain_text("Bob Smith asks to share files.")
    await request.get_by_role("button", name="Allow files").click()
    await expect(host.page.locator("#console-status")).to_contain_text(
        "Bob Smith may share files for"
    )
    await expect(page.locator("#file-input")).to_be_enabled()
    await expect(page.locator("#file-why")).to_contain_text("You may share files for")
    await expect(page.locator("#file-ask")).to_be_hidden()

    # The control is reachable from the keyboard: from the tab into the panel.
    await page.focus("#tab-files")
    reached = set()
    for _ in range(4):
        await page.keyboard.press("Tab")
        reached.add(await page.evaluate("() => document.activeElement.id"))
    assert {"file-input", "file-send"} <= reached, reached

    # Bob shares a real PDF: progress while it goes, then the server's decision.
    await page.evaluate(WATCH_PROGRESS)
    await page.set_input_files(
        "#file-input", {"name": "Q3 report.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.click("#file-send")
    await expect(page.locator("#file-result.allowed")).to_have_text(
        "Q3 report.pdf: Your file is shared."
    )
    await expect(page.locator("#file-progress")).to_be_hidden()
    stages = await page.evaluate("() => window.stages")
    assert stages[:1] == ["asking"], stages
    assert "checking" in stages, stages
    await expect(page.locator("#file-list li .file-sender")).to_have_text("you")

    # Carol, on the chat tab, is told; she sees it listed as text and downloads it.
    await expect(carol.page.locator("#files-count")).to_have_text("1")
    await open_tab(carol, "files")
    await expect(carol.page.locator("#files-count")).to_be_hidden()
    item = carol.page.locator("#file-list li")
    await expect(item).to_have_count(1)
    await expect(item.locator(".file-name")).to_have_text("Q3 report.pdf")
    await expect(item.locator(".file-meta")).to_have_text(
        f"{len(PDF)} bytes, application/pdf, from Bob Smith"
    )
    async with (
        carol.page.expect_request(lambda r: "/files/" in r.url) as requested,
        carol.page.expect_download() as downloading,
    ):
        await item.get_by_role("button", name="Download Q3 report.pdf").click()
    download = await downloading.value
    assert download.suggested_filename == "Q3 report.pdf"
    saved = tmp_path / "downloaded.pdf"
    await download.save_as(saved)
    assert saved.read_bytes() == PDF
    # The token went in a header, never in the address.
    sent = await requested.value
    assert "?" not in sent.url
    assert "token" not in sent.url.lower()
    assert (await sent.all_headers())["authorization"].startswith("Bearer ")
    await expect(item.locator(".file-item-status")).to_have_text(f"Downloaded ({len(PDF)} bytes).")

    # A program named report.pdf: refused, with the server's sentence (the reason code and
    # the rule are for hosts).
    await page.set_input_files(
        "#file-input",
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": WINDOWS_PROGRAM},
    )
    await page.click("#file-send")
    await expect(page.locator("#file-result.refused")).to_have_text(
        "report.pdf was not shared: Programs and scripts cannot be shared in meetings."
    )
    await expect(page.locator("#file-result .file-codes")).to_have_count(0)
    await expect(carol.page.locator("#file-list li")).to_have_count(1)
    await screenshot(bob, "files", docs=True, panel=True)

    # On a slow link the progress bar follows the bytes, and Cancel stops the upload.
    cdp = await bob.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 64 * 1024},
    )
    large = {"name": "minutes.txt", "mimeType": "text/plain", "buffer": b"minutes\n" * 65536}
    await page.set_input_files("#file-input", large)
    await page.click("#file-send")
    await expect(page.locator("#file-progress-label")).to_have_text(
        re.compile(r"^Sending minutes\.txt: [1-9]\d? % \(\d+ KB of 512 KB\)$")
    )
    assert await page.evaluate("() => document.getElementById('file-progress-bar').value") > 0
    await page.click("#file-cancel")
    await expect(page.locator("#file-result.refused")).to_have_text(
        "minutes.txt was not shared: You cancelled the upload; nothing was shared."
    )
    await expect(page.locator("#file-progress")).to_be_hidden()
    await expect(carol.page.locator("#file-list li")).to_have_count(1)
    for person in (carol, bob, host):
        await person.close()


async def test_without_a_grant_the_control_says_why_and_a_client_that_tries_is_refused(
    browser: Browser, server: RunningServer
) -> None:
    host = await open_person(browser, server.url, "Alice Chen")
    bob = await open_person(browser, server.url, "Bob Smith")
    policy = {**GRANTED_FILES, "file_share": {"allowed": "with_grant", "max_bytes": 4096}}
    meeting = await create_meeting(host, policy)
    await host_joins(host, meeting)
    await _in_meeting(bob, meeting.join_url)
    page = bob.page
    await open_tab(bob, "files")
    await expect(page.locator("#file-input")).to_be_disabled()
    await expect(page.locator("#file-send")).to_be_disabled()
    await expect(page.locator("#file-why")).to_have_text(
        "Ask the host for permission to share files first."
    )
    # A client that thinks otherwise (stale, or tampered with) is refused by the server,
    # and the refusal is shown, not swallowed.
    await page.evaluate(
        """(bytes) => {
          const input = document.getElementById('file-input');
          const files = new DataTransfer();
          const file = new File([new Uint8Array(bytes)], 'notes.pdf', { type: 'application/pdf' });
          files.items.add(file);
          input.files = files.files;
          document.getElementById('file-form').requestSubmit();
        }""",
        list(PDF),
    )
    await expect(page.locator("#file-result.refused")).to_have_text(
        "notes.pdf was not shared: Ask the host for permission to share files first."
    )
    # The host, who needs no grant, may share; a file over the limit is flagged when
    # chosen, and the server's refusal is shown when sent anyway, with its reason code and
    # rule (a host reads them; a participant reads the sentence).
    await open_tab(host, "files")
    await expect(host.page.locator("#file-input")).to_be_enabled()
    await expect(host.page.locator("#file-why")).to_have_text("")
    notes = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"minutes\n" * 625}
    await host.page.set_input_files("#file-input", notes)
    await expect(host.page.locator("#file-why.refused")).to_have_text(
        "notes.txt is 5 KB; files here can be at most 4 KB, so the server will refuse it."
    )
    await host.page.click("#file-send")
    await expect(host.page.locator("#file-result.refused")).to_have_text(
        "notes.txt was not shared: The file is 5 KB; files here can be at most 4 KB."
        " (file_too_large, /file_share/max_bytes)"
    )
    # A grant for a chosen time, then revoked: Bob's control follows, with the reason.
    await open_tab(host, "people")
    row = host.page.locator("#roster li.person").filter(has_text="Bob Smith")
    await row.locator("summary").click()
    await row.get_by_label("Sharing allowed for").select_option(label="5 minutes")
    await row.get_by_role("button", name="Allow files").click()
    await expect(page.locator("#file-why")).to_contain_text("You may share files for 4:5")
    await expect(page.locator("#file-input")).to_be_enabled()
    await row.get_by_role("button", name="Revoke files").click()
    await expect(page.locator("#file-why.refused")).to_have_text(
        "The host ended your permission to share files."
    )
    await expect(page.locator("#file-input")).to_be_disabled()
    await expect(page.locator("#share-why")).not_to_contain_text("files")
    # At 200% zoom (a 640-pixel viewport) the panel reflows: nothing scrolls sideways.
    await page.set_viewport_size({"width": 640, "height": 400})
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    for person in (bob, host):
        await person.close()
