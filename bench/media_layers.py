"""Issue 14: one viewer limited to 300 kbit/s, a Chromium publisher in simulcast layers.

The host is the web client in headless Chromium, its fake camera at 1280x720
(three layers, q/h/f, when the server's ``admitted`` says ``simulcast: true``)
and its microphone on. Three SDK viewers say they show the camera at 1280x720:
two direct, the first behind the relay of tests/support/impair.py with a
300 kbit/s token bucket each way (64 KB queue). The link is limited from the
start; the window (``--seconds``) starts once every viewer decodes and
``--settle`` seconds have passed. Per viewer over the window: the sizes
decoded (the layer), frames, freeze time (gaps over 500 ms), the longest freeze,
decode errors, camera and microphone packets received, and whether it was told
its video was paused.

Side by side in one run, each on a server process of its own
(bench/layer_server.py): ``now``; ``before``, the server before issue 14
(``--no-loss-repair --no-bandwidth-control --no-simulcast``: one layer,
everything forwarded to every link); and ``reference``, now with no limit on
any link. Then for the direct viewers frames now / before and now / reference.

    .venv/bin/python bench/media_layers.py [--seconds 20] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import FLAGS, chromium_executable  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from support.browser import NO_WAITING_ROOM, create_meeting, host_joins, open_person  # noqa: E402
from support.counting import until  # noqa: E402
from support.frame_log import DecodeErrors, figures  # noqa: E402
from support.impair import ImpairedLink, Impairment  # noqa: E402
from support.layered import (  # noqa: E402
    FRAMES_SENT_PER_LAYER,
    HD_CAMERA_AND_HANDLES,
    RelayedViewer,
    Viewer,
)
from support.server import RunningServer  # noqa: E402

from meetwarden.client_sdk.media import loopback_only  # noqa: E402

PYTHON = sys.executable
SIDES = {
    "now": ([], True),
    "before": (["--no-loss-repair", "--no-bandwidth-control", "--no-simulcast"], True),
    "reference": ([], False),
}
SLOW = Impairment(rate=300_000)


async def run_once(side: str, args: argparse.Namespace) -> dict[str, Any]:
    flags, limited = SIDES[side]
    server = RunningServer(
        Path(tempfile.mkdtemp(prefix="meetwarden-layers-")),
        command=[PYTHON, str(ROOT / "bench" / "layer_server.py"), *flags],
    )
    server.create_account("alice", "correct horse battery staple")
    server.start()
    viewers: list[Viewer] = []
    link = await ImpairedLink(seed=args.seed).start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium_executable(), headless=True, args=FLAGS
            )
            host = await open_person(browser, server.url, "Alice Chen")
            await host.context.add_init_script(HD_CAMERA_AND_HANDLES)
            policy = {**NO_WAITING_ROOM, "audio": {"mute_on_entry": False}}
            meeting = await create_meeting(host, policy)
            await host_joins(host, meeting)
            if limited:
                link.set(SLOW, SLOW)
            slow = await RelayedViewer.connect(meeting.join_url, name="Sam Slow")
            assert isinstance(slow, RelayedViewer)
            slow.link = link
            viewers.append(slow)
            for name in ("Fay Fast", "Lee Large"):
                viewers.append(await Viewer.connect(meeting.join_url, name=name))  # type: ignore[arg-type]
            for viewer, label in zip(viewers, ("viewer-0", "viewer-1", "viewer-2"), strict=True):
                viewer.label = label
                await viewer.media.subscribe()
            await until(
                lambda: all(any(s == "camera" for _, s in v.media.received) for v in viewers), 60
            )
            host_id = next(p for p, s in slow.media.received if s == "camera")
            camera, microphone = (host_id, "camera"), (host_id, "microphone")
            logging.getLogger("aiortc.rtcrtpreceiver").setLevel(logging.WARNING)
            with DecodeErrors(lambda: [(v.log, v.decoder_thread(camera)) for v in viewers]):
                for viewer in viewers:
                    viewer.watch(camera)
                    await viewer.media.tile_size(host_id, "camera", 1280, 720)
                for viewer in viewers[1:]:
                    await until(lambda v=viewer: len(v.sizes) >= 10, 60)  # type: ignore[misc]
                await asyncio.sleep(args.settle)  # the estimate's time to settle
                sent_before = await host.page.evaluate(FRAMES_SENT_PER_LAYER)
                wire_before = [viewer.wire.snapshot() for viewer in viewers]
                start = time.monotonic()
                await asyncio.sleep(args.seconds)  # the window is the measurement
                end = time.monotonic()
                sent_after = await host.page.evaluate(FRAMES_SENT_PER_LAYER)
                wires = [v.wire.since(b) for v, b in zip(viewers, wire_before, strict=True)]
            rows = []
            for viewer, wire in zip(viewers, wires, strict=True):
                found = figures(viewer.log, start, end)
                sizes: dict[str, int] = {}
                for at, w, h in viewer.sizes:
                    if start <= at <= end:
                        sizes[f"{w}x{h}"] = sizes.get(f"{w}x{h}", 0) + 1
                rows.append(
                    {
                        "viewer": viewer.label,
                        "sizes": sizes,
                        "frames": found.frames,
                        "freeze_time": round(found.freeze_time, 2),
                        "max_freeze": round(found.max_freeze, 2),
                        "decode_errors": found.decode_errors,
                        "camera_packets": wire[camera],
                        "audio_packets": wire[microphone],
                        "told_paused": bool(viewer.mentions(["video_paused"])),
                    }
                )
            for viewer in viewers:
                if viewer.reader is not None:
                    viewer.reader.cancel()
                await viewer.close()
            viewers.clear()
            await host.close()
            await browser.close()
            sent = {k: v - sent_before.get(k, 0) for k, v in sent_after.items()}
            return {"side": side, "frames_sent": sent, "viewers": rows}
    finally:
        for viewer in viewers:
            await viewer.close()
        link.close()
        server.stop()


def _median(runs: list[dict[str, Any]], side: str, index: int, key: str) -> float:
    return statistics.median(r["viewers"][index][key] for r in runs if r["side"] == side)


def summarise(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["side       viewer    sizes decoded                 frames  frozen s  longest  "
             "dec.err  audio pkts  told paused"]  # fmt: skip
    for run in runs:
        for row in run["viewers"]:
            sizes = ", ".join(f"{k}: {v}" for k, v in row["sizes"].items()) or "-"
            lines.append(
                f"{run['side']:<10} {row['viewer']:<9} {sizes:<29} {row['frames']:>6}  "
                f"{row['freeze_time']:>8}  {row['max_freeze']:>7}  {row['decode_errors']:>7}  "
                f"{row['audio_packets']:>10}  {row['told_paused']}"
            )
        lines.append(f"{run['side']:<10} frames sent per layer: {run['frames_sent']}")
    for index in (1, 2):
        now = _median(runs, "now", index, "frames")
        before = _median(runs, "before", index, "frames")
        reference = _median(runs, "reference", index, "frames")
        lines.append(
            f"viewer-{index} (direct): frames now / before {now / max(before, 1):.3f}, "
            f"now / no limited link {now / max(reference, 1):.3f}"
        )
    return lines


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    loopback_only()
    runs = []
    order = list(SIDES)
    for round_ in range(args.rounds):
        for side in order if round_ % 2 == 0 else order[::-1]:
            print(f"round {round_ + 1}: {side} ...", flush=True)
            runs.append(await run_once(side, args))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--json", help="also write every run to this file")
    args = parser.parse_args()
    runs = asyncio.run(main_async(args))
    print("\n".join(summarise(runs)))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
