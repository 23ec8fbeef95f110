"""A crowd coming in costs the people already in the meeting a few roster frames, not
one per person, and the roster and waiting list they build are the meeting's own.

The Room runtime in the test's process, on a real SQLite file (support/registries):
each session's outbox holds exactly the frames its socket would be sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from meetwarden import protocol as wire
from meetwarden.policies.events import AdmitRequested, HandRaised, JoinRequested
from meetwarden.server.participant_requests import handle_request
from meetwarden.server.runtime.registry import Registry
from meetwarden.server.runtime.room import Room
from meetwarden.server.runtime.session import Session

pytestmark = pytest.mark.anyio

CROWD = 60
FIRST = ["Ana", "Bao", "Chen", "Dara", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun"]
LAST = ["Silva", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Kowalski"]


def _name(number: int) -> str:
    return f"{FIRST[number % len(FIRST)]} {LAST[number // len(FIRST)]}"


class Reader:
    """What one person's client keeps from the frames it reads: the roster, the waiting
    list, and how many frames of each kind it was sent."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.roster: dict[str, str] = {}
        self.waiting: dict[str, str] = {}
        self.frames: dict[str, int] = {}
        self.in_neither: set[str] = set()
        """Whoever this reader, at some frame, had in neither the roster nor the waiting
        list while they were in the meeting's (``watch``)."""
        self.watch: set[str] = set()
        self.hands: set[str] = set()
        self.hands_at_answer: dict[int, set[str]] = {}
        """The raised hands this reader's roster showed when each answer (by ref) came."""

    def read(self, text: str) -> None:
        message: dict[str, Any] = wire.SERVER_ADAPTER.validate_json(text).model_dump()
        kind = message["type"]
        self.frames[kind] = self.frames.get(kind, 0) + 1
        if kind == "admitted":
            self.roster = {e["id"]: e["name"] for e in message["roster"]}
        elif kind == "result":
            self.hands_at_answer[message["ref"]] = set(self.hands)
        elif kind == "roster_update":
            self.roster.update({e["id"]: e["name"] for e in message["entries"]})
            for entry in message["entries"]:
                (self.hands.add if entry["hand_raised"] else self.hands.discard)(entry["id"])
            for pid in message["removed"]:
                self.roster.pop(pid, None)
        elif kind == "waiting_list":
            self.waiting = {e["id"]: e["name"] for e in message["waiting"]}
        elif kind == "waiting_update":
            self.waiting.update({e["id"]: e["name"] for e in message["entries"]})
            for pid in message["removed"]:
                self.waiting.pop(pid, None)
        self.in_neither |= {pid for pid in self.watch if pid not in self.roster | self.waiting}

    def read_sent(self) -> None:
        while not self.session.outbox.empty():
            text = self.session.outbox.get_nowait()
            if text is not None:
                self.read(text)

    async def read_until(self, done: Any) -> None:
        """Reads frames as they are sent until ``done()``; waits on the outbox, not a clock."""
        self.read_sent()
        while not done():
            text = await asyncio.wait_for(self.session.outbox.get(), 10)
            if text is not None:
                self.read(text)


async def _meeting(registry: Registry, policy: dict[str, Any]) -> tuple[Room, Reader]:
    created = await registry.create_meeting(policy, None)
    room = await registry.room(created.meeting_id)
    assert room is not None
    host = Reader(Session("h", device_id="d-h", device_token="t"))
    joined = await room.join(
        JoinRequested(participant="h", name="Alice Host", role="host"), host.session
    )
    assert joined.allowed
    return room, host


async def _crowd(room: Room) -> list[str]:
    ids = [f"g{n}" for n in range(CROWD)]
    joins = [
        room.join(
            JoinRequested(participant=pid, name=_name(n)),
            Session(pid, device_id=pid, device_token="t"),
        )
        for n, pid in enumerate(ids)
    ]
    await asyncio.gather(*joins)
    return ids


async def test_a_crowd_joining_at_once_costs_each_person_in_a_few_roster_frames(
    registry: Registry,
) -> None:
    room, host = await _meeting(registry, {"entry": {"waiting_room": {"enabled": False}}})
    observer = Reader(Session("o", device_id="d-o", device_token="t"))
    assert (
        await room.join(JoinRequested(participant="o", name="Olga Berg"), observer.session)
    ).allowed
    await observer.read_until(lambda: set(observer.roster) == {"h", "o"})
    before = observer.frames.get("roster_update", 0)

    ids = await _crowd(room)
    everyone = {pid: p.name for pid, p in room.state.participants.items()}
    assert set(everyone) == {"h", "o", *ids}
    for reader in (observer, host):
        await reader.read_until(lambda r=reader: r.roster == everyone)
        sent = reader.frames.get("roster_update", 0) - (before if reader is observer else 0)
        # One frame per join would be 60; the changes go out together.
        assert 1 <= sent <= 10, f"{sent} roster frames for {CROWD} people joining"


async def test_a_crowd_waiting_costs_the_host_a_few_frames_and_the_list_is_whole(
    registry: Registry,
) -> None:
    room, host = await _meeting(registry, {})
    await host.read_until(lambda: "waiting_list" in host.frames)
    ids = await _crowd(room)
    waiting = {pid: p.name for pid, p in room.state.participants.items() if not p.admitted}
    assert set(waiting) == set(ids)
    await host.read_until(lambda: host.waiting == waiting)
    sent = host.frames.get("waiting_update", 0)
    assert 1 <= sent <= 10, f"{sent} waiting-list frames for {CROWD} people waiting"


async def test_a_host_sees_each_person_admitted_move_from_the_waiting_list_to_the_roster_at_once(
    registry: Registry,
) -> None:
    """The roster's batches wait longer as a meeting grows (1 s in a meeting of 100); the
    hosts' waiting list does not, and a person the host admits is never in neither list
    for the host, in between."""
    room, host = await _meeting(registry, {})
    ids = await _crowd(room)
    await host.read_until(lambda: set(host.waiting) == set(ids))
    host.watch = set(ids)
    for pid in ids:
        assert (await room.submit(AdmitRequested(actor="h", participant=pid))).allowed
    everyone = {pid: p.name for pid, p in room.state.participants.items()}
    await host.read_until(lambda: host.roster == everyone and not host.waiting)
    assert host.in_neither == set(), f"{len(host.in_neither)} admitted people were in no list"


async def test_a_request_is_answered_after_every_roster_change_decided_before_it(
    registry: Registry,
) -> None:
    """The roster's batches wait longer as a meeting grows (0.6 s in this one); whoever
    sends a request is sent what waits first, so no answer comes before a change decided
    before it (a host who lowers a hand sees it raised first)."""
    room, host = await _meeting(registry, {"entry": {"waiting_room": {"enabled": False}}})
    ids = await _crowd(room)
    everyone = {pid: p.name for pid, p in room.state.participants.items()}
    await host.read_until(lambda: host.roster == everyone)
    # After a quiet spell a change goes out at once; the next one waits for the batch.
    for pid in ids[:2]:
        assert (await room.submit(HandRaised(participant=pid))).allowed
    await handle_request(room, host.session, wire.LowerHand(id=7), None, None)  # type: ignore[arg-type]
    host.read_sent()
    assert host.hands_at_answer[7] >= {ids[0], ids[1]}
