"""Nothing of one meeting reaches anyone in another meeting on the same server.

Two, then three meetings run at once, each with a host, a publisher (camera
and microphone) and an honest counter. The adversary creates a meeting of its
own (anyone may), publishes, subscribes, and reaches for the others: host
actions and private chat at their participant ids, a join to another meeting
with its own host token. Every counter must receive the media of its own
meeting (the control) and no packet, track offer, participant id, name or
chat line of any other. The same holds when the meetings are held by two nodes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pytest
from support.adversary import Adversary, camera, decisions, microphone
from support.cluster import Cluster
from support.cluster import cluster as cluster  # the fixture
from support.counting import HonestCounter, WireCounter
from support.enforced import Meeting, Scene, honest
from support.postgres import postgres_server as postgres_server  # the fixture, shared
from support.server import api_key_for

from meetwarden.client_sdk import HostAPI

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(150)]
POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "audio": {"mute_on_entry": False},
    "chat": {"private": "everyone"},
}
CREW = [
    ("Ada Alpha", "Abel Archer", "Amy Ashford"),
    ("Ben Bravo", "Bea Baxter", "Bob Bellamy"),
    ("Cyd Charlie", "Cal Cooper", "Cora Castle"),
]
"""(host, publisher, counter) of each meeting: names that appear nowhere else."""


@dataclass
class Team:
    """One meeting's honest people and what belongs to it alone."""

    meeting: Meeting
    publisher: HonestCounter
    counter: HonestCounter
    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)

    @property
    def people(self) -> list[HonestCounter]:
        return [self.meeting.host, self.publisher, self.counter]

    def secret(self) -> str:
        text = f"secret-{secrets.token_hex(6)}"
        self.secrets.add(text)
        return text

    def marks(self) -> set[str]:
        """Everything that identifies this meeting's people and talk."""
        return self.ids | self.names | self.secrets


async def _team(scene: Scene, crew: tuple[str, str, str]) -> Team:
    host_name, publisher_name, counter_name = crew
    meeting = await scene.meeting(POLICY, host_name=host_name)
    counter = await honest(meeting, counter_name)
    await counter.media.subscribe()
    publisher = await honest(meeting, publisher_name)
    await publisher.media.publish(camera=camera(), microphone=microphone())
    team = Team(meeting, publisher, counter, names=set(crew))
    team.ids = {p.participant_id for p in team.people if p.participant_id}
    await publisher.chat(team.secret())
    await counter.chat(team.secret(), to=publisher.participant_id)
    return team


async def _own_meeting(scene: Scene) -> tuple[Adversary, HonestCounter, str]:
    """The adversary's meeting, made through the REST API as any host with a key may, with a
    guest in it; returns the adversary, the guest and the meeting's host token."""
    created = await HostAPI.create_meeting(
        scene.server_url, POLICY, api_key=api_key_for(scene.server_url)
    )
    eve = scene.adversary(created.meeting_id)
    joined = await eve.join(host_token=created.host_token)
    assert (joined["type"], joined["you"]["role"]) == ("admitted", "host")
    dan = scene.closing(await HonestCounter.connect(created.join_url, name="Dan Delta"))
    assert isinstance(dan, HonestCounter)
    await dan.media.publish(camera=camera(), microphone=microphone())
    assert sorted(
        decisions(await eve.publish({"camera": camera(), "microphone": microphone()}))
    ) == [
        ("camera", True, "published"),
        ("microphone", True, "published"),
    ]
    assert (await eve.subscribe())["type"] == "subscribe_offer"
    return eve, dan, created.host_token


async def _reach_across(scene: Scene, eve: Adversary, host_token: str, others: list[Team]) -> None:
    """Everything the adversary's own meeting lets it aim at the other meetings."""
    for team in others:
        target = team.publisher.participant_id
        for action in (
            {"type": "mute", "participant": target},
            {"type": "ask_to_unmute", "participant": target},
            {"type": "grant", "participant": target, "kind": "screen", "minutes": 5},
            {"type": "remove", "participant": target},
            {"type": "chat", "text": "psst, from another meeting", "to": target},
        ):
            result = await eve.request(action)
            assert (result["allowed"], result["reason"]) == (False, "unknown_participant")
    # Its host token opens its own meeting only. (Once per test: each refusal counts
    # towards the server's limit on failed joins from one address.)
    intruder = scene.adversary(others[0].meeting.meeting_id)
    refused = await intruder.join(host_token=host_token)
    assert (refused["type"], refused["reason"]) == ("join_refused", "join_failed")


@pytest.mark.parametrize("meetings", [2, 3])
async def test_nothing_of_one_meeting_reaches_another(scene: Scene, meetings: int) -> None:
    teams = [await _team(scene, crew) for crew in CREW[:meetings]]
    eve, dan, host_token = await _own_meeting(scene)
    await _reach_across(scene, eve, host_token, teams)
    assert await _leaks(teams, eve, dan) == {}


@pytest.mark.redis
async def test_nothing_of_a_meeting_reaches_a_meeting_on_another_node(cluster: Cluster) -> None:
    """Two nodes: the adversary's meeting is held by one, a meeting it reaches for by the
    other, and its tokens are valid on both (the nodes share the signing key)."""
    scene = Scene(cluster.nodes[0].url)  # every link and REST call names the first node
    try:
        teams = [await _team(scene, crew) for crew in CREW[:2]]
        eve, dan, host_token = await _own_meeting(scene)
        own_node = await cluster.holder_of(eve.meeting_id)
        across = [t for t in teams if await cluster.holder_of(t.meeting.meeting_id) != own_node]
        assert across, "placement put every meeting on one node: nothing crosses nodes"
        await _reach_across(scene, eve, host_token, across)
        # Its own meeting's tokens (it is that meeting's host), brought to the other node's
        # meeting, which lets anyone in: they resume nothing there, it is a new guest.
        intruder = scene.adversary(across[0].meeting.meeting_id, name="Ivy Intruder")
        joined = await intruder.join(resume_token=eve.resume_token, device_token=eve.device_token)
        assert (joined["type"], joined["you"]["role"]) == ("admitted", "participant")
        assert intruder.participant_id not in {eve.participant_id, dan.participant_id}
        assert cluster.node(intruder.ws_url.replace("ws", "http", 1).split("/ws/")[0]) != own_node
        await intruder.close()
        assert await _leaks(teams, eve, dan) == {}
    finally:
        await scene.close()


async def _leaks(teams: list[Team], eve: Adversary, dan: HonestCounter) -> dict[str, object]:
    """What reached anyone from a meeting not their own, after a measured interval in which
    every meeting's own media flows (the controls)."""
    own_ids = {i for i in (eve.participant_id, dan.participant_id) if i}
    own = {*own_ids, eve.name, "Dan Delta"}
    # Controls: every counter receives its own meeting's media, and so does the adversary.
    for team in teams:
        await team.counter.wire.flows(team.publisher.participant_id, "camera")
        await team.counter.wire.flows(team.publisher.participant_id, "microphone")
    await eve.received.flows(dan.participant_id, "camera")
    await eve.received.flows(dan.participant_id, "microphone")
    await teams[0].counter.wire.window(2.0)  # a measured interval: everyone's media flows

    who = {p.participant_id: p.you.name for t in teams for p in t.people if p.you}
    who.update({eve.participant_id: eve.name, dan.participant_id: "Dan Delta"})
    leaks: dict[str, object] = {}

    def received(name: str, counter: WireCounter, mine: set[str]) -> None:
        leaks[f"{name} received packets of"] = {
            (who.get(p, p), source): n
            for (p, source), n in counter.packets.items()
            if p not in mine
        }
        leaks[f"{name} was offered tracks of"] = sorted(
            {(who.get(p, p), source) for p, source in counter.offered_keys() if p not in mine}
        )
        leaks[f"{name} received forged packets"] = counter.marked

    for team in teams:
        foreign = own.union(*(other.marks() for other in teams if other is not team))
        received(team.counter.you.name, team.counter.wire, team.ids)  # type: ignore[union-attr]
        for person in team.people:
            leaks[f"{person.you.name} was told of"] = sorted(person.mentions(foreign))  # type: ignore[union-attr]
    received(eve.name, eve.received, own_ids)
    others = set().union(*(team.marks() for team in teams))
    leaks[f"{eve.name} was told of"] = sorted(eve.mentions(others))
    leaks["Dan Delta was told of"] = sorted(dan.mentions(others))
    return {what: seen for what, seen in leaks.items() if seen}
