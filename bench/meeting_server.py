"""`meetwarden serve`, instrumented for bench/media_meeting.py (never used in production).

It records, inside the server, when a host's mute or revoke message arrives on
the WebSocket, when the gate closes (after the Room's inbox took the request and
its interpreter applied the decision), and when each track's last packet was
forwarded, and serves them at /bench/enforcement. Sends are synchronous on the
event loop, so the last forward recorded is the last packet leaving the server.

    python bench/meeting_server.py --port 0 --data-dir /tmp/d --rtc-address 127.0.0.1
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import uvicorn

from meetwarden import protocol as wire
from meetwarden.server import ws
from meetwarden.server.app import create_app
from meetwarden.server.config import Settings
from meetwarden.server.media import forwarder
from meetwarden.server.media.room import MediaRoom

Key = tuple[str, str]
arrived: dict[Key, float] = {}
"""When the latest mute or revoke for a track arrived on the WebSocket."""
last_forward: dict[Key, float] = {}
closed_at: dict[Key, float] = {}
samples: dict[Key, list[dict[str, float]]] = defaultdict(list)


def instrument() -> None:
    handle, set_gate, on_rtp = (
        ws._handle,
        MediaRoom.set_gate,
        forwarder.PublishedTrack.on_rtp,
    )

    async def timed_handle(room: Any, session: Any, message: Any) -> bool:
        now = time.monotonic()
        if isinstance(message, wire.Mute):
            arrived[(message.participant, "microphone")] = now
        elif isinstance(message, wire.Revoke):
            arrived[(message.participant, "screen")] = now
        return await handle(room, session, message)

    def timed_gate(self: Any, participant_id: str, source: str, open: bool) -> None:
        key = (participant_id, str(source))
        now = time.monotonic()
        set_gate(self, participant_id, source, open)
        if open:
            closed_at.pop(key, None)
            return
        closed_at[key] = now
        start = arrived.pop(key, None)
        if start is not None:
            last = last_forward.get(key, start)
            samples[key].append(
                {
                    "to_gate_ms": 1000 * (now - start),
                    "to_last_packet_ms": 1000 * max(0.0, last - start),
                    "forwarded_after_gate": 0,
                }
            )

    def timed_rtp(self: Any, fields: Any) -> None:
        forwarding = self.gate.open and self.downs
        on_rtp(self, fields)
        if forwarding:
            key = (self.participant_id, str(self.source))
            last_forward[key] = time.monotonic()
            if key in closed_at and samples[key]:  # never expected: counted, not hidden
                samples[key][-1]["forwarded_after_gate"] += 1

    ws._handle = timed_handle  # type: ignore[assignment]
    MediaRoom.set_gate = timed_gate  # type: ignore[method-assign]
    forwarder.PublishedTrack.on_rtp = timed_rtp  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rtc-address", action="append")
    args = parser.parse_args()
    instrument()
    app = create_app(Settings(data_dir=args.data_dir, rtc_addresses=tuple(args.rtc_address or ())))

    @app.get("/bench/enforcement")
    def enforcement(participant: str, source: str) -> dict[str, Any]:
        return {"samples": samples[(participant, source)]}

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        log_level="info",
        ws_max_size=wire.MAX_MESSAGE_BYTES,
    )


if __name__ == "__main__":
    main()
