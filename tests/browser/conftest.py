"""Real Chromium (Debian's package, driven by Playwright) against a real server.

Camera, microphone and screen are Chromium's fake devices (a green pacman
with a timestamp, a beeping microphone, a fake window for getDisplayMedia);
permission prompts are accepted by a flag. See
/work/shared/notes/browser-testing.md for why these flags and not others.

Chromium missing is a failure, not a skip: the README's `make test` installs it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
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
    running.create_account("alice", "correct horse battery staple")  # the hosts sign in as her
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_executable()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=FLAGS, timeout=30_000
        )
        yield launched
        await launched.close()
