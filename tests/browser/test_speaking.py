"""Who is speaking, in real Chromium: the server says it, the page shows it.

The fake microphone speaks (tests/browser/conftest.py); its audio levels reach the server in the
RTP header (RFC 6464), the server decides who speaks and sends ``speaking``,
and the others' pages mark the tile. The page never polls its receivers'
statistics for it (the code path is gone): the counters below stay at zero.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect
from support.browser import TIMEOUT_MS, host_and_guest
from support.server import RunningServer

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(150)]

MEDIA_TIMEOUT_MS = TIMEOUT_MS

# Counts receiver statistics read by the page, and the server's speaking messages.
WATCH = """(() => {
  window.receiverStats = 0;
  window.speakingMessages = [];
  const receiverStats = RTCRtpReceiver.prototype.getStats;
  RTCRtpReceiver.prototype.getStats = function (...args) {
    window.receiverStats += 1;
    return receiverStats.apply(this, args);
  };
  const pcStats = RTCPeerConnection.prototype.getStats;
  RTCPeerConnection.prototype.getStats = function (...args) {
    window.receiverStats += 1;
    return pcStats.apply(this, args);
  };
  const Original = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Original(...args);
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'speaking') window.speakingMessages.push(message.participants);
    });
    return socket;
  };
  window.WebSocket.prototype = Original.prototype;
  Object.assign(window.WebSocket, Original);
})()"""


async def test_another_persons_tile_shows_speaking_from_the_servers_message(
    browser: Browser, server: RunningServer
) -> None:
    host, bob, _ = await host_and_guest(browser, server.url)
    try:
        await bob.context.add_init_script(WATCH)
        await bob.page.reload()
        await bob.page.fill("#join-name", bob.name)
        await bob.page.click("#join-button")
        await expect(bob.page.locator("#screen-meeting")).to_be_visible()
        tile = bob.page.locator("#grid .tile:not(.self)").filter(has_text="Alice Chen")
        await expect(tile).to_have_class(re.compile(r"\bspeaking\b"), timeout=MEDIA_TIMEOUT_MS)
        await expect(tile.locator(".state-speaking")).to_be_visible()
        host_id = await tile.get_attribute("data-participant-id")
        messages = await bob.page.evaluate("window.speakingMessages")
        assert any(host_id in speakers for speakers in messages), messages
        assert await bob.page.evaluate("window.receiverStats") == 0
        # The host mutes: the server stops counting her microphone, the tile follows.
        await host.page.click("#mic-button")
        await expect(host.page.locator("#mic-button")).to_have_text("Unmute")
        await expect(tile.locator(".state-speaking")).to_be_hidden(timeout=MEDIA_TIMEOUT_MS)
        # ... and so does the server: its next message leaves her out (its gate closed).
        await bob.page.wait_for_function(
            "(id) => !window.speakingMessages.at(-1).includes(id)",
            arg=host_id,
            timeout=MEDIA_TIMEOUT_MS,
        )
        assert await bob.page.evaluate("window.receiverStats") == 0
    finally:
        await bob.close()
        await host.close()
