"""Setting the scene for the enforcement tests: a host, honest counters, an adversary.

Every honest participant here is a ``HonestCounter`` (the host too), so each
one's record of what it was sent can be searched afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from meetwarden.client_sdk import HostAPI, WaitingListChanged

from .adversary import Adversary, camera, decisions, microphone
from .counting import HonestCounter, Key
from .server import api_key_for

T = TypeVar("T")

__all__ = [
    "Meeting",
    "Scene",
    "Window",
    "admit_adversary",
    "honest",
    "host_meeting",
    "window",
]


@dataclass
class Meeting:
    meeting_id: str
    join_url: str
    host_token: str
    host: HonestCounter
    api: HostAPI
    people: list[Any] = field(default_factory=list)
    """Everyone the test brought in (closed with the meeting)."""

    async def close(self) -> None:
        for person in reversed(self.people):
            await person.close()
        await self.host.close()
        await self.api.close()


async def host_meeting(
    server_url: str, policy: dict[str, Any], host_name: str = "Alice Chen"
) -> Meeting:
    created = await HostAPI.create_meeting(server_url, policy, api_key=api_key_for(server_url))
    host = await HonestCounter.connect(
        created.join_url, name=host_name, host_token=created.host_token
    )
    assert isinstance(host, HonestCounter)
    api = HostAPI(server_url, created.meeting_id, created.host_token)
    return Meeting(created.meeting_id, created.join_url, created.host_token, host, api)


async def _admit(meeting: Meeting, participant_id: str) -> None:
    await meeting.host.wait_for(
        WaitingListChanged,
        lambda e: any(w.id == participant_id for w in e.waiting),
        timeout=20,
    )
    await meeting.host.admit(participant_id)


async def honest(meeting: Meeting, name: str, **join: Any) -> HonestCounter:
    """An honest participant in the meeting (admitted by the host if it waits)."""
    person = await HonestCounter.connect(meeting.join_url, name=name, **join)
    assert isinstance(person, HonestCounter)
    meeting.people.append(person)
    if person.status == "waiting":
        assert person.participant_id is not None
        await _admit(meeting, person.participant_id)
        await person.wait_admitted()
    return person


async def admit_adversary(meeting: Meeting, adversary: Adversary, **join: Any) -> dict[str, Any]:
    """The adversary joins (with any fields); the host admits it if it waits."""
    if adversary not in meeting.people:
        meeting.people.append(adversary)
    reply = await adversary.join(**join)
    if reply["type"] == "waiting":
        assert adversary.participant_id is not None
        await _admit(meeting, adversary.participant_id)
        reply = await adversary.wait_for(lambda m: m["type"] == "admitted", 20)
    return reply


class Scene:
    """The meetings and adversaries of one test, all closed at its end, pass or fail."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._open: list[Any] = []

    async def meeting(self, policy: dict[str, Any], host_name: str = "Alice Chen") -> Meeting:
        meeting = await host_meeting(self.server_url, policy, host_name)
        self._open.append(meeting)
        return meeting

    def adversary(self, meeting_id: str, name: str = "Eve Mallory") -> Adversary:
        return self.closing(Adversary(self.server_url, meeting_id, name))

    def closing(self, item: T) -> T:
        """Closes ``item`` (anything with ``async close()``) when the test ends."""
        self._open.append(item)
        return item

    async def close(self) -> None:
        for item in reversed(self._open):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(item.close(), 20)
        self._open.clear()


@dataclass
class Window:
    received: Counter[Key]
    """What the counter got during the window, per (participant, source)."""
    sent: Counter[str]
    """What the adversary's connection wrote meanwhile, per source."""
    marked: int
    """Forged packets (the adversary's marker) that reached the counter meanwhile."""


async def window(counter: HonestCounter, adversary: Adversary, seconds: float = 1.5) -> Window:
    """Measures a quiet interval: the interval itself is what is measured."""
    received, sent, marked = counter.wire.snapshot(), Counter(adversary.sent), counter.wire.marked
    await asyncio.sleep(seconds)
    return Window(
        counter.wire.since(received),
        Counter({k: v - sent[k] for k, v in adversary.sent.items() if v > sent[k]}),
        counter.wire.marked - marked,
    )


async def muted_on_entry_stays_unheard(
    scene: Scene, meeting: Meeting, insist: Callable[[Adversary], Awaitable[None]]
) -> None:
    """In ``meeting`` (muted on entry, unmuted after a raised hand): Eve, muted on entry,
    publishes a camera and a microphone that keeps sending and does ``insist``; Carol,
    honest, receives Eve's camera and none of her microphone; then, the control, the
    host lets Eve speak and Carol hears the same microphone."""
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    joined = await admit_adversary(meeting, eve)
    assert joined["you"]["muted"]
    reply = await eve.publish({"microphone": microphone(), "camera": camera()})
    assert sorted(decisions(reply)) == [
        ("camera", True, "published"),
        ("microphone", True, "published_muted"),
    ]
    await carol.wire.flows(eve.participant_id, "camera")
    await insist(eve)
    measured = await window(carol, eve)
    assert measured.sent["microphone"] > 20, "the adversary's microphone kept sending"
    assert measured.received[(eve.participant_id, "camera")] > 0, "the counter receives Eve"
    assert measured.received[(eve.participant_id, "microphone")] == 0
    assert carol.wire.of(eve.participant_id, "microphone") == 0
    # Control: once the host lets Eve speak, the same counter hears the same microphone.
    assert eve.participant_id is not None
    await meeting.host.ask_to_unmute(eve.participant_id)
    assert (await eve.request({"type": "request_unmute"}))["allowed"]
    await carol.wire.flows(eve.participant_id, "microphone")
