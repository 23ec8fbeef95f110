"""How much a browser publisher may send, and sends, once the server's feedback reaches it.

A real ``meetwarden serve`` and headless Chromium (Debian's, with its fake
camera): a host and a participant join a meeting without a waiting room. Every
two seconds the host's page reports, from ``getStats()``, the send rate its
congestion control allows itself (``availableOutgoingBitrate``) and the rate
its camera is sent at. The baseline is the same browser in the same run at
the start, before any feedback: Chromium's initial estimate (300 kbit/s), where
it stays for the whole meeting when a server gives no receiver reports.

    .venv/bin/python bench/browser_send_rate.py [--seconds 24]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import FLAGS, chromium_executable  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from support.browser import (  # noqa: E402
    create_meeting,
    host_joins,
    join,
    open_person,
    wait_for_screen,
)
from support.server import RunningServer  # noqa: E402
from test_media import KEEP_PEER_CONNECTIONS  # noqa: E402

SAMPLE = """async () => {
  let allowed = 0, bytes = 0, at = 0;
  for (const pc of window.peerConnections ?? []) {
    (await pc.getStats()).forEach((stats) => {
      if (stats.type === 'candidate-pair' && stats.availableOutgoingBitrate) {
        allowed = Math.max(allowed, stats.availableOutgoingBitrate);
      }
      if (stats.type === 'outbound-rtp' && stats.kind === 'video') {
        bytes = stats.bytesSent; at = stats.timestamp;
      }
    });
  }
  return {allowed, bytes, at};
}"""


async def measure(seconds: float) -> list[dict[str, Any]]:
    server = RunningServer(Path(tempfile.mkdtemp(prefix="meetwarden-bench-")))
    server.create_account("alice", "correct horse battery staple")  # the host signs in
    server.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium_executable(), headless=True, args=FLAGS
            )
            host = await open_person(browser, server.url, "Alice Chen")
            guest = await open_person(browser, server.url, "Bob Smith")
            await host.context.add_init_script(KEEP_PEER_CONNECTIONS)
            meeting = await create_meeting(host, {"entry": {"waiting_room": {"enabled": False}}})
            await host_joins(host, meeting)
            await join(guest, meeting.join_url)
            await wait_for_screen(guest, "meeting")
            samples: list[dict[str, Any]] = []
            loop = asyncio.get_running_loop()
            started = loop.time()
            while loop.time() - started <= seconds:
                sample = await host.page.evaluate(SAMPLE)
                sample["t"] = loop.time() - started
                samples.append(sample)
                await asyncio.sleep(2.0)  # the sampling period
            await browser.close()
            return samples
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=24.0)
    args = parser.parse_args()
    samples = asyncio.run(measure(args.seconds))
    print("   t s   may send kbit/s   sends kbit/s")
    previous: dict[str, Any] | None = None
    for sample in samples:
        rate = ""
        if previous is not None and sample["at"] > previous["at"]:
            seconds = (sample["at"] - previous["at"]) / 1000
            rate = f"{(sample['bytes'] - previous['bytes']) * 8 / seconds / 1000:.0f}"
        print(f"{sample['t']:6.1f}   {sample['allowed'] / 1000:14.0f}   {rate:>12}")
        previous = sample
    first = next((s["allowed"] for s in samples if s["allowed"]), 0)
    last = samples[-1]["allowed"]
    if first:
        print(
            f"may send at the end / at the start (the browser's own initial estimate): "
            f"{last / 1000:.0f} / {first / 1000:.0f} kbit/s = {last / first:.2f}x"
        )


if __name__ == "__main__":
    main()
