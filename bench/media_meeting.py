"""Issue 5, measurements 3 and 5, through the whole server (WebSocket, engine, media).

3. Enforcement latency at N = 8 subscribers (bench/media_enforcement.py), mute
   and revoke cycles at random phase, timed inside the server
   (bench/meeting_server.py): from the host's message arriving on the
   WebSocket to the gate closing, and to the last packet of that track
   leaving the server, p50/p99/max; packets forwarded after a gate closed are
   counted (they must be zero). Printed beside the host action's own round
   trip (request -> result, at the bot) in the same cycles, as a ratio.
5. A meeting of 12 bots, each publishing camera and microphone and receiving
   all others, for 60 s: server CPU and memory, delivered frame rates and
   packet loss per received track, as ratios of what was sent.

`meetwarden serve` runs in its own process; the bots (SDK) in this one. The
subscribers count RTP without decoding (the client would not fit 2 cores
otherwise); cameras are 640x480@30 VP8 (500 kbit/s for measurement 3; one
shared encoder per bots' process for the 12 bots, see SharedClip).

``--against REF`` measures 3 also on meetwarden as it was at commit REF (that
commit's own bench/meeting_server.py, its code imported through
bench/baseline.py), in a meeting of its own beside the current server's: the
two meetings take turns, ``--rounds`` rounds each, the order alternating, and
the meeting waiting its turn sends nothing. Prints both and the ratios now /
before of the p50s and p99s. The bots are the current SDK for both: the
messages they send have not changed since dc682de, and what the server sends
has only gained optional fields. Measurement 5 runs on the current server only.

    python bench/media_meeting.py                # about 2.5 minutes
    python bench/media_meeting.py --quick        # about 1 minute
    python bench/media_meeting.py --against dc682de            # about 4 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
from aiortc import MediaStreamTrack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from baseline import checkout, describe
from media_enforcement import EnforcementMeeting, Listener
from support.server import RunningServer

from meetwarden.client_sdk import HostAPI, MeetingClient
from meetwarden.client_sdk.media import loopback_only
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam import pin_vp8_bitrate

HERE = Path(__file__).resolve().parent


class SharedClip:
    """Two seconds of camera (VP8) and microphone (Opus), encoded once, replayed by many bots.

    Twelve live encoders, plus their Opus encoders, would saturate the bots'
    processes on 2 cores, and the figures would measure the bench, not the
    server. The server cannot tell: each bot's stream is packetised, numbered
    and encrypted separately, at the real rate. The clip starts on a keyframe,
    so each loop gives new subscribers one.
    """

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        self.fps = fps
        self.video: list[av.Packet] = []
        self.audio: list[av.Packet] = []
        self.queues: list[tuple[str, asyncio.Queue[av.Packet]]] = []
        self.frames_sent = 0
        self._size = (width, height)
        self._task: asyncio.Task[None] | None = None

    async def encode(self) -> None:
        width, height = self._size
        camera = SyntheticVideoTrack(width, height, self.fps)
        video = av.CodecContext.create("libvpx", "w")
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate, video.time_base = 500_000, fractions.Fraction(1, 90000)
        video.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        for index in range(2 * self.fps):
            frame = await camera.recv()
            frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90000)
            if index == 0:
                frame.pict_type = av.video.frame.PictureType.I
            self.video += await asyncio.to_thread(video.encode, frame)
        microphone = SyntheticAudioTrack()
        audio = av.CodecContext.create("libopus", "w")
        audio.sample_rate, audio.layout, audio.format = 48000, "stereo", "s16"
        audio.bit_rate, audio.time_base = 64000, fractions.Fraction(1, 48000)
        while len(self.audio) < 100:
            frame = await microphone.recv()
            self.audio += audio.encode(frame)

    def track(self, kind: str) -> MediaStreamTrack:
        queue: asyncio.Queue[av.Packet] = asyncio.Queue(60)
        self.queues.append((kind, queue))

        class Replay(MediaStreamTrack):
            async def recv(self) -> av.Packet:  # aiortc packetises an av.Packet as is
                return await queue.get()

        replay = Replay()
        replay.kind = kind
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        return replay

    def _push(self, kind: str, packet: av.Packet) -> None:
        for queue_kind, queue in self.queues:
            if queue_kind == kind and not queue.full():
                queue.put_nowait(packet)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start, video_index, audio_index = loop.time(), 0, 0
        while True:
            video_due = start + video_index / self.fps
            audio_due = start + audio_index * 0.02
            due = min(video_due, audio_due)
            if due > loop.time():
                await asyncio.sleep(due - loop.time())  # paced like a capture device
            if video_due <= audio_due:
                packet = self.video[video_index % len(self.video)]
                packet.pts, packet.time_base = video_index * 3000, fractions.Fraction(1, 90000)
                self._push("video", packet)
                self.frames_sent += 1
                video_index += 1
            else:
                packet = self.audio[audio_index % len(self.audio)]
                packet.pts, packet.time_base = audio_index * 960, fractions.Fraction(1, 48000)
                self._push("audio", packet)
                audio_index += 1


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _track_figures(
    listeners: list[Listener], marks: dict[int, Any], wall: float
) -> list[dict[str, float]]:
    """Frame rate and loss of every camera each listener received since ``marks``."""
    figures = []
    for listener in listeners:
        frames0, seq0 = marks[id(listener)]
        for key in listener.frames:
            if key[1] != "camera" or key[0] == listener.client.participant_id:
                continue
            seqs = listener.sequences[key][seq0.get(key, 0) :]
            expected = (seqs[-1] - seqs[0]) % 65536 + 1 if len(seqs) > 1 else 1
            figures.append(
                {
                    "publisher": key[0],
                    "fps": (listener.frames[key] - frames0.get(key, 0)) / wall,
                    "loss": max(0, expected - len(set(seqs))) / expected,
                }
            )
    return figures


async def _line(stream: Any) -> str:
    return (await stream.readline()).decode().strip()


async def worker(args: argparse.Namespace) -> None:
    """Some of the 12 bots, in their own process: publish, subscribe, count."""
    loopback_only()
    shared = SharedClip()
    await shared.encode()
    bots = []
    for index in range(args.bots):
        bot = await MeetingClient.connect(args.join, name=f"Bot {args.first + index}")
        await bot.media.publish(camera=shared.track("video"), microphone=shared.track("audio"))
        bots.append(bot)
    stdin = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    print("joined", flush=True)
    await _line(stdin)  # everyone has published
    listeners = []
    for bot in bots:
        await bot.media.subscribe()
        listener = Listener(bot)
        await listener.attach()
        listeners.append(listener)
    flowing = asyncio.Event()

    def count() -> None:
        seen = sum(1 for x in listeners for key in x.frames if key[1] == "camera")
        print(f"cameras seen {seen}/{args.bots * 11}", file=sys.stderr, flush=True)
        if seen >= args.bots * 11:
            flowing.set()
        else:
            loop.call_later(2.0, count)

    count()
    await flowing.wait()
    print("flowing", flush=True)
    await _line(stdin)  # start
    marks = {
        id(x): (dict(x.frames), {k: len(v) for k, v in x.sequences.items()}) for x in listeners
    }
    cpu0, wall0, sent0 = os.times(), time.monotonic(), shared.frames_sent
    await _line(stdin)  # stop
    wall, cpu1 = time.monotonic() - wall0, os.times()
    result = {
        "publishers": [bot.participant_id for bot in bots],
        "tracks": _track_figures(listeners, marks, wall),
        "sent_fps": (shared.frames_sent - sent0) / wall,
        "cpu": (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall,
    }
    print(json.dumps(result), flush=True)
    for bot in bots:
        await bot.close()


async def meeting_of_twelve(server: RunningServer, seconds: float) -> dict[str, Any]:
    policy = {
        "entry": {"waiting_room": {"enabled": False}, "full_name": {"required": False}},
        "audio": {"mute_on_entry": False, "unmute": "self"},
    }
    created = await HostAPI.create_meeting(server.url, policy, api_key=server.api_key)
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--worker",
            "--join",
            created.join_url,
            "--bots",
            "4",
            "--first",
            str(4 * index),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for index in range(3)
    ]

    async def tell(word: str) -> None:
        for process in workers:
            assert process.stdin is not None
            process.stdin.write(word.encode() + b"\n")
            await process.stdin.drain()

    async def hear(word: str) -> list[str]:
        heard = []
        for process in workers:
            line = await _line(process.stdout)
            if not line.startswith(word):
                raise RuntimeError(f"a worker said {line!r}, not {word!r}")
            heard.append(line)
        return heard

    try:
        await asyncio.wait_for(hear("joined"), 120)
        await tell("subscribe")
        await asyncio.wait_for(hear("flowing"), 120)
        await asyncio.sleep(3)  # warm-up: joins' keyframes and renegotiations are not measured
        pid = server.process.pid if server.process else 0
        await tell("start")
        cpu0, wall0 = _cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)  # the measurement window
        await tell("stop")
        wall, cpu = time.monotonic() - wall0, _cpu_seconds(pid) - cpu0
        results = [json.loads(line) for line in await asyncio.wait_for(hear("{"), 60)]
        for process in workers:
            await process.wait()
    finally:
        for process in workers:
            if process.returncode is None:
                process.kill()
    tracks = [track for result in results for track in result["tracks"]]
    sent_by = {pid: result["sent_fps"] for result in results for pid in result["publishers"]}
    delivered = [t["fps"] / sent_by[t["publisher"]] for t in tracks]
    return {
        "bots": 12,
        "seconds": round(wall, 1),
        "server_cpu_cores": cpu / wall,
        "client_cpu_cores": sum(result["cpu"] for result in results),
        "server_rss_mib": _memory_kib(pid, "VmRSS") / 1024,
        "server_peak_rss_mib": _memory_kib(pid, "VmHWM") / 1024,
        "sent_fps_mean": statistics.mean(result["sent_fps"] for result in results),
        "received_fps_min": min(t["fps"] for t in tracks),
        "received_fps_median": statistics.median(t["fps"] for t in tracks),
        "received_tracks": len(tracks),
        "delivered_min": min(delivered),
        "packet_loss_max": max(t["loss"] for t in tracks),
        "packet_loss_mean": statistics.mean(t["loss"] for t in tracks),
    }


async def enforcement(
    servers: dict[str, RunningServer], cycles: int, rounds: int
) -> dict[str, dict[str, Any]]:
    """Measurement 3 on each server, in a meeting of its own; with two, the meetings
    take turns for ``rounds`` rounds (the order alternating), the other one paused."""
    meetings = {
        name: EnforcementMeeting(server.url, api_key=server.api_key)
        for name, server in servers.items()
    }
    for meeting in meetings.values():
        await meeting.open()
        if len(meetings) > 1:
            meeting.pause()
    names = list(meetings)
    for round_number in range(rounds):
        count = cycles // rounds + (1 if round_number < cycles % rounds else 0)
        for name in names if round_number % 2 == 0 else names[::-1]:
            meeting = meetings[name]
            if len(meetings) > 1:
                await meeting.resume()
            await meeting.cycles(count)
            if len(meetings) > 1:
                meeting.pause()
    results = {name: await meeting.figures() for name, meeting in meetings.items()}
    for meeting in meetings.values():
        await meeting.close()
    return results


def _ratio(now: float, before: float) -> str:
    return f"{now / before:.2f}" if before > 0 else "n/a"


def print_enforcement(r3: dict[str, Any]) -> None:
    ratio = r3["to_gate_p99_ms"] / r3["host_round_trip_p99_ms"]
    print("3. enforcement latency, N = 8 subscribers, mute and revoke cycles:")
    print(
        f"   {r3['samples']} samples, message arrival -> last packet of the track leaving"
        f" the server: p50 {r3['p50_ms']:.2f} ms, p99 {r3['p99_ms']:.2f} ms,"
        f" max {r3['max_ms']:.2f} ms"
        f" (arrival -> gate closed, p99 {r3['to_gate_p99_ms']:.2f} ms)"
    )
    print(f"   packets forwarded after a gate closed: {r3['late_packets']}")
    print(
        f"   baseline, the host action's round trip (request -> result, at the bot):"
        f" p50 {r3['host_round_trip_p50_ms']:.2f} ms,"
        f" p99 {r3['host_round_trip_p99_ms']:.2f} ms;"
        f" arrival -> gate closed p99 / round-trip p99 = {ratio:.3f}"
    )


def print_side_by_side(now: dict[str, Any], before: dict[str, Any], ref: str, rounds: int) -> None:
    print(
        f"3. enforcement latency, N = 8 subscribers, mute and revoke cycles, now beside"
        f" before ({ref}), {rounds} rounds each, taking turns:"
    )
    print(f"   {'':<32} {'now p50 / p99':>16} {'before p50 / p99':>17} {'now / before':>14}")
    rows = [
        ("arrival -> gate closed", "to_gate_p50_ms", "to_gate_p99_ms"),
        ("arrival -> last packet leaving", "p50_ms", "p99_ms"),
        ("host round trip (at the bot)", "host_round_trip_p50_ms", "host_round_trip_p99_ms"),
    ]
    for label, p50, p99 in rows:
        cells = (
            f"{now[p50]:.2f} / {now[p99]:.2f}",
            f"{before[p50]:.2f} / {before[p99]:.2f}",
            f"{_ratio(now[p50], before[p50])} / {_ratio(now[p99], before[p99])}",
        )
        print(f"   {label:<32} {cells[0]:>16} {cells[1]:>17} {cells[2]:>14}")
    print(
        f"   ms; samples now {now['samples']}, before {before['samples']};"
        f" max to the last packet now {now['max_ms']:.2f} ms, before {before['max_ms']:.2f} ms"
    )
    print(
        f"   packets forwarded after a gate closed: now {now['late_packets']},"
        f" before {before['late_packets']}  (goal for the ratios: <= 1.10)"
    )


async def main(args: argparse.Namespace) -> None:
    loopback_only()
    pin_vp8_bitrate(500_000)
    runners: dict[str, tuple[list[str], dict[str, str]]] = {
        "now": ([sys.executable, str(HERE / "meeting_server.py")], {})
    }
    if args.against:
        source, pythonpath = checkout(args.against)
        runner = [sys.executable, str(source / "bench" / "meeting_server.py")]
        runners["before"] = (runner, {"PYTHONPATH": pythonpath})
        print(f"before = {describe(args.against)}", flush=True)
    servers: dict[str, RunningServer] = {}
    try:
        for name, (runner, env) in runners.items():
            data = Path(tempfile.mkdtemp(prefix="mw-bench-"))
            servers[name] = RunningServer(data, command=runner, env=env).start()
        r3 = await asyncio.wait_for(enforcement(servers, args.cycles, args.rounds), 900)
        if args.against:
            print_side_by_side(r3["now"], r3["before"], args.against, args.rounds)
            servers.pop("before").stop()  # measurement 5 is the current server's alone
        else:
            print_enforcement(r3["now"])
        r5 = await asyncio.wait_for(meeting_of_twelve(servers["now"], args.seconds), 600)
        delivered = r5["delivered_min"]
        print(f"5. a meeting of 12 bots (camera 640x480@30 + microphone each), {r5['seconds']} s:")
        print(
            f"   server CPU {r5['server_cpu_cores']:.3f} cores, RSS {r5['server_rss_mib']:.0f} MiB"
            f" (peak {r5['server_peak_rss_mib']:.0f} MiB); the bots' process"
            f" {r5['client_cpu_cores']:.2f} cores"
        )
        print(
            f"   {r5['received_tracks']} received camera tracks:"
            f" fps min {r5['received_fps_min']:.1f},"
            f" median {r5['received_fps_median']:.1f}, sent {r5['sent_fps_mean']:.1f};"
            f" delivered/sent, lowest track = {delivered:.3f}"
        )
        loss_max, loss_mean = r5["packet_loss_max"] or 0.0, r5["packet_loss_mean"] or 0.0
        print(f"   packet loss: max {100 * loss_max:.2f} %, mean {100 * loss_mean:.3f} %")
        if args.json:
            text = json.dumps({"3": r3, "5": r5}, indent=1)
            await asyncio.to_thread(Path(args.json).write_text, text)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cycles", type=int, default=60, help="per server")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--against", metavar="REF", help="measurement 3 also at this commit, e.g. dc682de"
    )
    parser.add_argument(
        "--rounds", type=int, help="turns per server with --against (default 6; --quick 2)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--join", help=argparse.SUPPRESS)
    parser.add_argument("--bots", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        pin_vp8_bitrate(500_000)
        import uvloop

        uvloop.run(worker(arguments))
        sys.exit(0)
    if arguments.quick:
        arguments.cycles, arguments.seconds = 20, 15.0
    if arguments.rounds is None:
        arguments.rounds = (2 if arguments.quick else 6) if arguments.against else 1
    asyncio.run(main(arguments))
