"""Driving the web client in real Chromium: people in their own browser contexts.

Each person has their own context (their own storage, as separate browsers
would), records every request the page makes (to prove none leaves the
server) and every uncaught page error (a test fails on one). Waits are on
page state with Playwright's timeouts, never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .server import account_for, running_at

SETUP_HINT = (
    "run the README's test command (`make test`): it installs Debian's `chromium` package "
    "and Playwright into .venv (or set MEETWARDEN_CHROMIUM to a Chromium binary)"
)

try:
    from playwright.async_api import Browser, BrowserContext, Page, Route, expect
except ImportError as missing:  # a failure that says what to do, never a skip
    raise ImportError(f"Playwright is not installed; {SETUP_HINT}") from missing

__all__ = [
    "COLOR_SCHEMES",
    "COUNT_FRAMES",
    "COVERED_CONTROLS",
    "FIRST_FRAME",
    "KEEP_PEER_CONNECTIONS",
    "NO_WAITING_ROOM",
    "OPENED",
    "SCREENSHOTS",
    "SCREEN_SIZES",
    "SETUP_HINT",
    "TIMEOUT_MS",
    "Meeting",
    "Person",
    "admit",
    "create_meeting",
    "explained_on_failure",
    "hold_requests",
    "host_and_guest",
    "host_joins",
    "join",
    "open_person",
    "open_side_panel",
    "open_tab",
    "screenshot",
    "sign_in",
    "wait_for_screen",
]

# Resolves with how many frames a <video> presented (requestVideoFrameCallback) in a window.
COUNT_FRAMES = """([selector, wanted, within]) => new Promise((resolve) => {
  const video = document.querySelector(selector);
  if (!video) { resolve(0); return; }
  let frames = 0;
  const done = setTimeout(() => resolve(frames), within);
  const tick = () => {
    frames += 1;
    if (frames >= wanted) { clearTimeout(done); resolve(frames); }
    else video.requestVideoFrameCallback(tick);
  };
  video.requestVideoFrameCallback(tick);
})"""
# Keeps every RTCPeerConnection the page makes (window.peerConnections), for its stats.
KEEP_PEER_CONNECTIONS = """(() => {
  const Original = window.RTCPeerConnection;
  window.peerConnections = [];
  // For a failed test's report: what each connection did, second by second (its
  // signalling and connection states, tracks added, the bytes its transport received
  // and the RTP packets each m-line received in that second), its last 300 lines.
  window.peerTimeline = [];
  const started = performance.now();
  const note = (index, what) => {
    window.peerTimeline.push(`${Math.round(performance.now() - started)}ms pc${index} ${what}`);
    if (window.peerTimeline.length > 300) window.peerTimeline.shift();
  };
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args);
    const index = window.peerConnections.push(pc) - 1;
    note(index, 'created');
    const on = (type, what) => pc.addEventListener(type, (event) => note(index, what(event)));
    on('signalingstatechange', () => `signaling ${pc.signalingState}`);
    on('connectionstatechange', () => `connection ${pc.connectionState}`);
    on('track', (event) => `track mid=${event.transceiver.mid} ${event.track.kind}`);
    const counted = new Map();
    const tick = setInterval(async () => {
      if (pc.connectionState === 'closed') { clearInterval(tick); return; }
      const arrived = [];
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'transport') {
          // what reached the transport before SRTP and demultiplexing: it tells packets
          // that never came from packets the page dropped
          const bytes = s.bytesReceived - (counted.get('transport') ?? 0);
          counted.set('transport', s.bytesReceived);
          arrived.push(`transport+${bytes}B dtls=${s.dtlsState}`
            + ` pair=${s.selectedCandidatePairId}/${s.selectedCandidatePairChanges}`);
        }
        if (s.type !== 'inbound-rtp') return;
        const key = `${s.mid}/${s.ssrc}`;
        arrived.push(`${s.kind[0]}${s.mid}+${s.packetsReceived - (counted.get(key) ?? 0)}`);
        counted.set(key, s.packetsReceived);
      });
      if (arrived.length) note(index, `in ${arrived.join(' ')}`);
    }, 1000);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})()"""
# What a page shows and what its video streams did, for a failed test's report: the
# status lines, the open dialogs, and per video RTP stream the counts of packets,
# frames, keyframes and keyframe requests (inbound: what arrived; outbound: what left).
PAGE_STATE = """async () => {
  const text = (selector) => document.querySelector(selector)?.textContent?.trim() ?? null;
  const state = {
    url: location.pathname,
    shareButton: text('#share-button'),
    shareButtonDisabled: document.querySelector('#share-button')?.disabled ?? null,
    shareWhy: text('#share-why'),
    openDialogs: [...document.querySelectorAll('dialog[open]')].map((d) => d.id),
    videos: [...document.querySelectorAll('video')].map((v) =>
      `${v.dataset.source ?? '?'}:${v.dataset.participantId ?? ''}`
      + ` ${v.videoWidth}x${v.videoHeight}`),
    streams: [],
    timeline: window.peerTimeline ?? [],
  };
  for (const pc of window.peerConnections ?? []) {
    (await pc.getStats()).forEach((s) => {
      if (s.kind !== 'video' || (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp')) return;
      state.streams.push(`${pc.connectionState} ${s.type} mid=${s.mid} ssrc=${s.ssrc}`
        + ` packets=${s.packetsReceived ?? s.packetsSent}`
        + ` frames=${s.framesDecoded ?? s.framesEncoded}`
        + ` keyframes=${s.keyFramesDecoded ?? s.keyFramesEncoded} pli=${s.pliCount}`
        + ` nack=${s.nackCount}`);
    });
  }
  return state;
}"""
# Resolves with the milliseconds until a <video> presented its first frame, or null if it
# presented none within `within` ms (the element is looked for until then too).
FIRST_FRAME = """([selector, within]) => new Promise((resolve) => {
  const started = performance.now();
  const done = setTimeout(() => resolve(null), within);
  const look = () => {
    const video = document.querySelector(selector);
    if (!video) { setTimeout(look, 50); return; }
    video.requestVideoFrameCallback(() => {
      clearTimeout(done);
      resolve(Math.round(performance.now() - started));
    });
  };
  look();
})"""
# The controls a toast lies on top of (none, ever): for each visible control, a few points
# inside it are asked which element a person sees there. Toasts let clicks through
# (pointer-events: none), so for the question they are made to answer it.
COVERED_CONTROLS = """() => {
  const toasts = [...document.querySelectorAll('#toasts .toast')];
  const controls = [...document.querySelectorAll(
    'button, select, input, textarea, summary, a[href], [role="tab"]')]
    .filter((element) => element.checkVisibility() && !element.closest('#toasts'));
  for (const toast of toasts) toast.style.pointerEvents = 'auto';
  try {
    return controls.filter((control) => {
      const box = control.getBoundingClientRect();
      const points = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]];
      return points.some(([x, y]) => {
        const seen = document.elementFromPoint(box.left + x * box.width, box.top + y * box.height);
        return Boolean(seen?.closest('#toasts'));
      });
    }).map((control) => control.id || control.textContent.trim().slice(0, 40));
  } finally {
    for (const toast of toasts) toast.style.pointerEvents = '';
  }
}"""
# Screenshots go under build/ (git ignores it): a test run never rewrites a file of the
# working tree. `make screenshots` copies the documented ones (docs=True) into
# docs/screenshots when the README's pictures should change.
SCREENSHOTS = Path(
    os.environ.get("MEETWARDEN_SCREENSHOTS") or Path(__file__).parents[2] / "build" / "screenshots"
)
# The documented pictures: a laptop and a phone (an iPhone's 390 x 844), light and dark.
SCREEN_SIZES = {1280: 800, 390: 844}
COLOR_SCHEMES = ("light", "dark")
TIMEOUT_MS = 30_000
"""How long a page may take to show what a test waits for. 15 s was too short for a loaded
CI machine (load average 18 with two browser modules on two cores): a page's own one-second
timeline had gaps of 5 and 10 s, and a screen share showed as started only after its
15 s wait had failed. Only a failing wait lasts this long."""
expect.set_options(timeout=TIMEOUT_MS)
# The people opened by the running test, for its failure report (what each page logged).
OPENED: list[Person] = []
CONSOLE_KEPT = 80


@dataclass
class Person:
    name: str
    context: BrowserContext
    page: Page
    server_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def logged(self, line: str) -> None:
        """Keeps the page's last console lines, for a failed test's report."""
        self.console.append(line)
        del self.console[:-CONSOLE_KEPT]

    def foreign_requests(self) -> list[str]:
        """Every request that went anywhere but this server (there must be none)."""
        ws_url = self.server_url.replace("http://", "ws://", 1)
        return [
            url
            for url in self.requests
            if not url.startswith((self.server_url, ws_url, "blob:", "data:"))
        ]

    async def close(self) -> None:
        await self.context.close()
        assert not self.errors, f"uncaught errors on {self.name}'s page: {self.errors}"
        assert not self.foreign_requests(), self.foreign_requests()


async def open_person(
    browser: Browser,
    server_url: str,
    name: str,
    *,
    width: int = 1280,
    height: int = 800,
    locale: str = "en-US",
) -> Person:
    """A person in their own browser context; ``locale`` is their browser's language
    (``navigator.languages`` and ``Accept-Language``)."""
    context = await browser.new_context(
        viewport={"width": width, "height": height}, base_url=server_url, locale=locale
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    person = Person(name, context, page, server_url)
    page.on("request", lambda request: person.requests.append(request.url))
    page.on("websocket", lambda socket: person.requests.append(socket.url))
    page.on("pageerror", lambda error: person.errors.append(str(error)))
    page.on("console", lambda message: person.logged(f"{message.type}: {message.text}"))
    OPENED.append(person)
    return person


@asynccontextmanager
async def explained_on_failure(*people: Person) -> AsyncIterator[None]:
    """A failure inside is reported with what each person's page showed and what its
    video streams did (with KEEP_PEER_CONNECTIONS installed), its console's last lines,
    and what the server says its media connections do (``RunningServer.describe_media``)."""
    try:
        yield
    except Exception as failure:
        for person in people:
            try:
                state = await person.page.evaluate(PAGE_STATE)
            except Exception as unreadable:  # a closed page says so, and the failure stands
                state = f"(the page could not be read: {unreadable})"
            failure.add_note(f"{person.name}'s page: {json.dumps(state, indent=1)}")
            failure.add_note(f"{person.name}'s console: {person.console[-20:]}")
        server = running_at(people[0].server_url) if people else None
        if server is not None and server.process is not None:
            # the server's side of the same connections, twice: a second apart, the
            # counts say which streams it is still sending
            for when in ("now", "a second later"):
                try:
                    lines = await asyncio.to_thread(server.describe_media)
                except Exception as unreadable:
                    lines = [f"(not described: {unreadable})"]
                failure.add_note(f"the server's media {when}:\n" + "\n".join(lines))
                if when == "now":
                    await asyncio.sleep(1.0)  # the interval measured
        raise


@dataclass
class Meeting:
    meeting_id: str
    join_url: str
    host_link: str


async def hold_requests(page: Page, url: str, method: str = "GET") -> asyncio.Event:
    """From now on the page's ``method`` requests to ``url`` (a Playwright glob) are answered
    only once the returned event is set: what the page does while it waits for them."""
    answered = asyncio.Event()

    async def hold(route: Route) -> None:
        if route.request.method == method:
            await answered.wait()
        await route.continue_()

    await page.route(url, hold)
    return answered


async def sign_in(person: Person) -> None:
    """Signs in on the sign-in page with the test server's host account; ends on the create page."""
    account = account_for(person.server_url)
    assert account is not None, "the test server has no host account (RunningServer.create_account)"
    page = person.page
    if not page.url.endswith("/sign-in"):  # already there: no second load of the same page
        await page.goto("/sign-in")
    # The page's script has run (it enables the button): nothing it does after clears what
    # is typed now, and the click submits through it.
    await expect(page.locator("#sign-in")).to_be_enabled()
    await page.fill("#username", account[0])
    await page.fill("#password", account[1])
    await expect(page.locator("#username")).to_have_value(account[0])
    await page.click("#sign-in")
    await page.wait_for_url(f"{person.server_url}/")


async def create_meeting(
    host: Person, policy: dict[str, Any] | None = None, password: str | None = None
) -> Meeting:
    """Creates a meeting from the host's page, as a host would: sign in, paste a policy, create."""
    page = host.page
    await page.goto("/")
    if page.url.endswith("/sign-in"):
        await sign_in(host)
    await expect(page.locator(".plain-words-list li").first).to_be_visible()
    await page.locator("textarea.code-input").fill(json.dumps(policy or {}, indent=2))
    await expect(page.locator(".editor-errors")).to_be_hidden()
    if password is not None:
        await page.fill("#password", password)
    await page.click("#create")
    await expect(page.locator("#created")).to_be_visible()
    join_url = await page.input_value("#join-link")
    host_link = await page.input_value("#host-link")
    return Meeting(join_url.rsplit("/m/", 1)[1], join_url, host_link)


async def join(person: Person, url: str, name: str | None = None, password: str = "") -> None:
    page = person.page
    await page.goto(url)
    await page.fill("#join-name", name if name is not None else person.name)
    if password:
        await page.fill("#join-password", password)
    await page.click("#join-button")


async def wait_for_screen(person: Person, screen: str) -> None:
    await expect(person.page.locator(f"#screen-{screen}")).to_be_visible()


async def host_joins(host: Person, meeting: Meeting) -> None:
    await join(host, meeting.host_link)
    await wait_for_screen(host, "meeting")


NO_WAITING_ROOM = {"entry": {"waiting_room": {"enabled": False}}}


async def host_and_guest(
    browser: Browser, server_url: str, policy: dict[str, Any] | None = None
) -> tuple[Person, Person, Meeting]:
    """Alice hosts a meeting without a waiting room (plus ``policy``), and Bob is in it."""
    host = await open_person(browser, server_url, "Alice Chen")
    bob = await open_person(browser, server_url, "Bob Smith")
    meeting = await create_meeting(host, {**NO_WAITING_ROOM, **(policy or {})})
    await host_joins(host, meeting)
    await join(bob, meeting.join_url)
    await wait_for_screen(bob, "meeting")
    return host, bob, meeting


async def open_side_panel(person: Person) -> bool:
    """On a narrow screen the side panel is a drawer: opens it (beside the video it is
    always open). True when it was closed and this opened it."""
    toggle = person.page.locator("#side-toggle")
    if await toggle.is_visible() and await toggle.get_attribute("aria-expanded") != "true":
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        return True
    return False


async def open_tab(person: Person, tab: str) -> None:
    await open_side_panel(person)
    await person.page.click(f"#tab-{tab}")
    await expect(person.page.locator(f"#panel-{tab}")).to_be_visible()


async def admit(host: Person, name: str) -> None:
    await open_tab(host, "people")
    await host.page.click(f'button[aria-label="Admit {name}"]')


async def screenshot(person: Person, name: str, *, docs: bool = False, panel: bool = False) -> None:
    """Saves the page as ``name.png``; with ``docs``, as ``name-{width}-{scheme}.png`` at each
    documented width and colour scheme instead (``make screenshots`` copies those into
    docs/). ``panel``: on a phone, open the side panel (chat, files, people) for the picture.
    The page gets its size and colour scheme back afterwards."""
    page = person.page
    if not docs:
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        return
    size = page.viewport_size
    dark = await page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    try:
        for width, height in SCREEN_SIZES.items():
            await page.set_viewport_size({"width": width, "height": height})
            opened = panel and await open_side_panel(person)
            for scheme in COLOR_SCHEMES:
                await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
                await page.screenshot(
                    path=str(SCREENSHOTS / f"{name}-{width}-{scheme}.png"), full_page=True
                )
            if opened:
                await page.click("#side-toggle")
    finally:
        await page.emulate_media(color_scheme="dark" if dark else "light")
        if size is not None:
            await page.set_viewport_size(size)
