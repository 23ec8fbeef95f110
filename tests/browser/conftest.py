"""Real Chromium (Debian's package, driven by Playwright) against a real server.

Camera and screen are Chromium's fake devices (a green pacman with a
timestamp, a fake window for getDisplayMedia); the microphone plays tones in
syllables (``SYLLABLES``), a voice as the server's speaker detection hears
one: Chromium's own fake microphone beeps 80 ms in every 400 ms, exactly
the least share of a window the server counts as voice, so a beep that falls
across two of its windows counts in neither, and a phase of the two clocks can
hide the speaker for longer than a test waits (a loaded CI machine once
showed nobody speaking for 20 s). Permission prompts are accepted by a flag.
See /work/shared/notes/browser-testing.md for why these flags and not others.

Chromium missing is a failure, not a skip: the README's `make test` installs it.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import struct
import wave
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright
from support.browser import OPENED, SETUP_HINT
from support.server import RunningServer

CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
# --use-fake-device-for-media-stream with display-media-type=window makes getDisplayMedia
# give a fake *window* (displaySurface 'window'), which is what a policy allows by default.
FLAGS = [
    "--use-fake-device-for-media-stream=fps=15,display-media-type=window",
    "--use-fake-ui-for-media-stream",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
]


def chromium_executable() -> str:
    configured = os.environ.get("MEETWARDEN_CHROMIUM")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"MEETWARDEN_CHROMIUM={configured} is not a file; {SETUP_HINT}")
        return configured
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    pytest.fail(f"Chromium is not installed; {SETUP_HINT}")


_NOTABLE = re.compile(r" (WARNING|ERROR|CRITICAL) |Traceback|meetwarden\.server\.media|failed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, None]:
    """A failed browser test's report ends with what its server last logged (pauses of
    streams for a subscriber's link, renegotiation errors) and what each person's page
    wrote to its console: what the assertion cannot say."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup":
        del OPENED[:]  # whoever an earlier test opened is not this test's
    if report.when != "call" or not report.failed:
        return
    running = getattr(item, "funcargs", {}).get("server")
    if isinstance(running, RunningServer):
        report.sections.append(("server log (last 60 lines)", "".join(running.log[-60:])))
        # the module's server may have logged why a connection ended long before the end
        notable = [line for line in running.log if _NOTABLE.search(line)]
        report.sections.append(
            ("server log: warnings, errors and media lines (last 80)", "".join(notable[-80:]))
        )
    for person in list(OPENED):
        lines = "\n".join(person.console) or "(nothing)"
        report.sections.append((f"{person.name}'s page console (last lines)", lines))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # MEETWARDEN_SERVE_ARGS="--no-media" runs the suite against a server without media.
    extra = shlex.split(os.environ.get("MEETWARDEN_SERVE_ARGS", ""))
    running = RunningServer(tmp_path_factory.mktemp("server-data"), extra_args=extra)
    # the hosts sign in as her (made in this process: test_hosting.py runs the command)
    running.create_account("alice", "correct horse battery staple", by_command=False)
    running.start()
    yield running
    running.stop()


SYLLABLES = ((0.20, 300), (0.10, 0), (0.25, 450), (0.10, 0), (0.20, 380), (0.15, 0))
"""One second of the microphone's sound, looped by Chromium: (seconds, tone in Hz; 0 is
silence). Every 400 ms holds at least 200 ms of tone, and the gaps keep the browser's
noise suppression from taking the tones for a steady noise."""


def write_voice(path: Path, rate: int = 48_000) -> Path:
    """A WAV file of ``SYLLABLES`` at -10 dBFS: what the fake microphone plays."""
    amplitude = 32767 * 10 ** (-10 / 20)
    samples = []
    for seconds, tone in SYLLABLES:
        for n in range(int(seconds * rate)):
            samples.append(round(amplitude * math.sin(2 * math.pi * tone * n / rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


@pytest.fixture(scope="session")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_voice(tmp_path_factory.mktemp("voice") / "voice.wav")


@pytest.fixture(scope="module")
async def browser(voice: Path) -> AsyncIterator[Browser]:
    executable = chromium_executable()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[*FLAGS, f"--use-file-for-fake-audio-capture={voice}"],
            timeout=30_000,
        )
        yield launched
        await launched.close()
