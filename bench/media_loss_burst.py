"""How soon a viewer whose device lost a burst of packets sees the camera again.

The scenario of ``tests/media/test_loss_burst.py``, timed: a publisher's camera
(VP8 at a fixed 500 kbit/s, 320x240) and microphone, one viewer behind the
impairment relay. Once the viewer's reports have shown two clean intervals, its
link loses 80 % of what goes to it, and one video packet never arrives at all,
until the server pauses the camera for it; then the link is clear. Measured from
that moment: until the server resumes the camera, and until the viewer decodes a
frame again (at most ``--wait`` seconds).

``--hole-before N`` drops that one video packet on a clear link and starts the burst
once N more video packets have reached the viewer: the pause comes more than 128
packets after the hole (as on a busy machine), past the window in which an aiortc
receiver names it in its NACKs.

``--against REF`` runs the same in a process that imports meetwarden's server as
it was at commit REF (``bench/baseline.py``), the runs in turns with the current
code's, and prints the two side by side with their ratio.

    python bench/media_loss_burst.py --runs 5 --against f5e33f9
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from baseline import checkout, describe, environment
from support.counting import until
from support.impair import CLEAR, Impairment, rtp_header
from support.network_meeting import NetworkMeeting, RoomEndpoint, Scenario

from meetwarden.server.media import CameraCheck, MediaPlane, Observation
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate
from meetwarden.server.media.bandwidth import LOW_LOSS
from meetwarden.server.media.events import VideoPaused

LOSSY = Impairment(loss=0.8)
VIDEO_SIZE = 600  # bytes above which a datagram is video


async def _until(condition: Any, within: float) -> bool:
    """True once ``condition()`` holds, False after ``within`` seconds (a run that never
    gets there is counted, not an error): the tests' poll (``support.counting.until``)."""
    try:
        await until(condition, within)
    except AssertionError:
        return False
    return True


def _drop_one_video_packet() -> Any:
    chosen: list[tuple[int, int]] = []

    def drop(data: bytes) -> bool:
        header = rtp_header(data)
        if header is None:
            return False
        if not chosen and len(data) > VIDEO_SIZE:
            chosen.append(header[:2])
        return header[:2] in chosen

    return drop


async def one_run(wait: float, hole_before: int = 0) -> dict[str, float | None]:
    """Seconds from the clear link until the resume and until a frame is decoded."""
    pin_vp8_bitrate(500_000)
    plane = MediaPlane(camera_check=CameraCheck(report_interval=3600.0, probe_interval=3600.0))
    resumed: list[float] = []

    def seen(observation: Observation) -> None:
        if isinstance(observation, VideoPaused) and not observation.paused:
            resumed.append(time.monotonic())

    room = plane.room("meeting", on_observation=seen)
    meeting = NetworkMeeting(
        RoomEndpoint(room), Scenario("burst", "subscriber"), viewers=1, size=(320, 240), audio=True
    )
    try:
        await meeting.start()
        viewer = meeting.viewers[0]
        bandwidth = room.subscriber_bandwidth("viewer-0")
        assert bandwidth is not None
        estimate = bandwidth.estimate
        # Two clean report intervals in a row, read the same way from either server (an
        # older one has no ``clean_intervals``): each update moves ``_last_update``.
        clean: list[float] = []

        def two_clean() -> bool:
            at, loss = estimate._last_update, estimate.last_loss
            if loss is None or loss >= LOW_LOSS:
                clean.clear()
            elif at not in clean:
                clean.append(at)
            return len(clean) >= 2

        await _until(two_clean, 20)
        viewer.record = True
        meeting.link.down.drop_if = _drop_one_video_packet()
        if hole_before:
            video = viewer.ssrc_of("video")
            await _until(lambda: sum(a.ssrc == video for a in viewer.arrivals) > hole_before, 20)
        meeting.link.set(CLEAR, LOSSY)
        paused = await _until(lambda: bandwidth.pauses >= 1, 20)
        meeting.link.set(CLEAR, CLEAR)
        meeting.link.down.drop_if = None
        clear = time.monotonic()
        if not paused:
            return {"resumed": None, "decoded": None}
        decoded = len(viewer.log.times)
        await _until(lambda: len(viewer.log.times) > decoded, wait)
        after = [t for t in viewer.log.times[decoded:] if t > clear]
        return {
            "resumed": round(resumed[0] - clear, 2) if resumed else None,
            "decoded": round(after[0] - clear, 2) if after else None,
        }
    finally:
        await meeting.close()
        await room.close()
        await plane.close()


def _median(values: list[float | None], wait: float) -> float:
    """The median, a run that never got there counted as ``wait``."""
    return statistics.median(wait if v is None else v for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wait", type=float, default=40.0, help="seconds at most per run")
    parser.add_argument("--against", metavar="REF", help="also meetwarden at REF")
    parser.add_argument(
        "--hole-before",
        type=int,
        default=0,
        metavar="N",
        help="the never-repaired packet N packets before the burst, on a clear link",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_run(args.wait, args.hole_before))))
        return
    sides: dict[str, dict[str, str]] = {"now": environment(None)}
    if args.against:
        sides[f"before ({describe(args.against)[:40]})"] = environment(checkout(args.against)[1])
    runs: dict[str, list[dict[str, float | None]]] = {name: [] for name in sides}
    for number in range(args.runs):
        for name, env in sides.items():
            command = [sys.executable, __file__, "--one", "--wait", str(args.wait)]
            command += ["--hole-before", str(args.hole_before)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"run {number + 1} {name}: {runs[name][-1]}", flush=True)
    print(f"\n$ python {' '.join(sys.argv)}")
    print(f"seconds from the clear link (median of {args.runs}; never = {args.wait:g})")
    print(f"{'':28}{'camera resumed':>16}{'a frame decoded':>17}")
    medians = {}
    for name, results in runs.items():
        resumed = _median([r["resumed"] for r in results], args.wait)
        decoded = _median([r["decoded"] for r in results], args.wait)
        medians[name] = (resumed, decoded)
        print(f"{name[:28]:28}{resumed:>16.2f}{decoded:>17.2f}")
    if len(medians) == 2:
        (now_r, now_d), (before_r, before_d) = medians.values()
        print(f"{'now / before':28}{now_r / before_r:>16.2f}{now_d / before_d:>17.2f}")


if __name__ == "__main__":
    main()
