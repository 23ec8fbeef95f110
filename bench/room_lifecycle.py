"""What a Room itself keeps after its meeting ends: RSS per meeting, no sockets involved.

bench/room_memory.py measures a whole server (HTTP, WebSockets, the store); this
drives Rooms in one process through the registry, on a real SQLite file, so
that what it prints is the Room's own share: create a meeting, load its Room,
a host and a guest join, the host ends it. The baseline is the process's own
RSS after a warm-up of the same meetings, in the same run.

    python bench/room_lifecycle.py               # 1000 meetings, with and without media scopes
    python bench/room_lifecycle.py --meetings 200
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
from pathlib import Path

from meetwarden.policies.events import EndMeetingRequested, JoinRequested
from meetwarden.server.auth import Passwords, Tokens
from meetwarden.server.media import MediaPlane
from meetwarden.server.runtime.audit import AuditWriter
from meetwarden.server.runtime.registry import Registry
from meetwarden.server.runtime.session import Session
from meetwarden.server.runtime.writes import StoreWrites
from meetwarden.server.store import Store

OPEN = {"entry": {"waiting_room": {"enabled": False}}}


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def run(meetings: int, warmup: int, media: bool) -> tuple[float, int]:
    """(RSS KiB per meeting after the warm-up, Rooms still loaded at the end)."""
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{folder}/meetwarden.db")
        audit, writes = AuditWriter(store), StoreWrites()
        audit.start()
        writes.start()
        plane = MediaPlane() if media else None
        registry = Registry(
            store=store,
            tokens=Tokens(b"bench" * 8),
            passwords=Passwords(),
            audit=audit,
            writes=writes,
            media=plane,
        )

        async def one() -> None:
            created = await registry.create_meeting(OPEN, None)
            room = await registry.room(created.meeting_id)
            assert room is not None
            for pid, name, role in (("h", "Alice Host", "host"), ("g", "Bob Smith", "participant")):
                session = Session(pid, device_id=pid, device_token="t")
                await room.join(JoinRequested(participant=pid, name=name, role=role), session)  # type: ignore[arg-type]
            await room.submit(EndMeetingRequested(actor="h"))

        async def settle() -> None:
            await writes.flush()
            await audit.flush()
            gc.collect()

        for _ in range(warmup):
            await one()
        await settle()
        start = rss_kib()
        for _ in range(meetings):
            await one()
        await settle()
        growth = (rss_kib() - start) / meetings
        loaded = len(registry.live())
        await registry.close()
        if plane is not None:
            await plane.close()
        await writes.close()
        await audit.close()
        await store.close()
        return growth, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    print(f"Rooms created and ended in one process, {args.meetings} after {args.warmup} warm-up:")
    for media in (False, True):
        growth, loaded = asyncio.run(run(args.meetings, args.warmup, media))
        label = "with media scopes" if media else "without media"
        print(f"   {label:<18} RSS +{growth:.2f} KiB per meeting; Rooms still loaded: {loaded}")


if __name__ == "__main__":
    main()
