"""What the mission promises, checked over random meetings (hypothesis).

Random policies and random sequences of every kind of event, by hosts,
co-hosts, invited and uninvited guests, with timers firing on time. After
every decision:
- no participant's microphone is forwarded while muted by policy;
- no screen is forwarded without a live grant where sharing needs one
  (and never where the policy lets nobody, or only hosts, share);
- no more screens are shared at once than the policy allows;
- nobody waiting has any media forwarded;
- nobody reaches the meeting without passing the waiting room when it is on
  and they have no bypass;
- a participant removed under ``rejoin: never`` never gets back in;
- a screen's gate opens only when its sharer confirms it (never on publishing);
- a private message goes only to someone admitted and connected, whom the policy's
  ``chat.private`` lets the sender write to;
- a decision changes nobody its effects do not name (the server looks for the views
  to update among those alone: ``policies.apply.touched_by``);
- the count of the admitted that ``max_participants`` is held to is right, carried
  from state to state.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetwarden.policies.apply import touched_by
from meetwarden.policies.decision import Decision
from meetwarden.policies.effects import (
    AddParticipant,
    Admit,
    BanIdentities,
    DeliverChat,
    Dismiss,
    OpenGate,
    SendToWaitingRoom,
)
from meetwarden.policies.events import EVENT_ADAPTER
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.model import Policy
from meetwarden.policies.simulation import Simulation, Step
from meetwarden.policies.state import MeetingState, counted_source

PEOPLE = ["h", "c", "i1", "p1", "p2", "p3"]
JOIN_FACTS = {
    "h": {"role": "host", "name": "Alice Host"},
    "c": {"role": "cohost", "name": "Carol Cohost"},
    "i1": {"invited": True, "name": "Ivan Invited", "source": "10.0.0.0/24"},
    "p1": {"name": "Pat One", "source": "10.0.0.0/24"},
    "p2": {"name": "Quinn Two", "source": "10.0.0.0/24"},
    "p3": {"name": "Alice H\u043est", "source": "10.0.1.0/24"},
}
"""Who joins, as the server tells the engine (``source``: the network a person joins
from, counted by the waiting room's share per source)."""
ADMITTING = {"admitted", "host_joined", "readmitted", "admitted_by_host", "policy_updated"}

share_modes = st.sampled_from(["nobody", "host_only", "with_grant", "anyone"])


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    screen_mode = draw(share_modes)
    file_mode = draw(share_modes)
    screen: dict[str, Any] = {
        "allowed": screen_mode,
        "max_concurrent": draw(st.integers(1, 2)),
        "surfaces": ["window", "monitor"],
        "audio": draw(st.booleans()),
        "grant_ends_with_share": draw(st.booleans()),
    }
    if screen_mode == "with_grant":
        screen["grant_minutes"] = draw(st.integers(1, 3))
    files: dict[str, Any] = {"allowed": file_mode}
    if file_mode == "with_grant":
        files["grant_minutes"] = draw(st.integers(1, 3))
    waiting = draw(st.booleans())
    room: dict[str, Any] = {"enabled": waiting}
    if waiting:
        room["bypass"] = draw(
            st.sampled_from([["host"], ["host", "cohost"], ["host", "cohost", "invited"]])
        )
    return {
        "entry": {
            "password": draw(st.booleans()),
            "waiting_room": room,
            "locked": draw(st.sampled_from([False, False, False, True])),
            "max_participants": draw(st.integers(3, 8)),
            "full_name": {"required": draw(st.booleans())},
            "camera": {
                "required": draw(st.sampled_from([False, False, True])),
                "check_seconds": 20,
                "on_missing": draw(st.sampled_from(["warn", "waiting_room", "remove"])),
                "on_lost": draw(st.sampled_from(["warn", "waiting_room", "remove"])),
                "lost_grace_seconds": draw(st.sampled_from([0, 5])),
            },
        },
        "audio": {
            "mute_on_entry": draw(st.booleans()),
            "unmute": draw(st.sampled_from(["self", "after_raised_hand", "host_only"])),
        },
        "screen_share": screen,
        "file_share": files,
        "chat": draw(
            st.sampled_from(
                [
                    {"allowed": "nobody"},
                    {"allowed": "host_only", "private": "off"},
                    {"allowed": "host_only", "private": "hosts"},
                    {"allowed": "everyone", "private": "off"},
                    {"allowed": "everyone", "private": "hosts"},
                    {"allowed": "everyone", "private": "everyone"},
                ]
            )
        ),
        "removal": {"rejoin": draw(st.sampled_from(["never", "via_waiting_room", "allowed"]))},
    }


person = st.sampled_from(PEOPLE)
hosts = st.sampled_from(["h", "h", "h", "c", "p1"])  # p1 is not a host: its host actions fail
OPENING = [
    {
        "type": "join_requested",
        "participant": who,
        "password_ok": True,
        "identities": [f"device:{who}"],
        **facts,
    }
    for who, facts in JOIN_FACTS.items()
] + [{"type": "admit_all", "actor": "h"}]


@st.composite
def events(draw: st.DrawFn, policy_docs: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "join",
                "join",
                "join",
                "left",
                "disconnected",
                "disconnected",
                "resumed",
                "resumed",
                "admit",
                "admit_all",
                "deny",
                "remove",
                "ban",
                "lock",
                "hand_raised",
                "hand_lowered",
                "unmute_requested",
                "self_muted",
                "mute",
                "mute_all",
                "ask_to_unmute",
                "publish",
                "publish",
                "publish_stopped",
                "share_confirmed",
                "share_confirmed",
                "share_requested",
                "grant",
                "grant",
                "revoke",
                "camera_frames",
                "camera_lost",
                "camera_restored",
                "set_role",
                "policy_update",
                "rename",
                "chat",
            ]
        )
    )
    who = draw(st.sampled_from(["c", "i1", "p1", "p1", "p2", "h"]) if kind != "join" else person)
    if kind == "join":
        facts = dict(JOIN_FACTS[who])
        return {
            "type": "join_requested",
            "participant": who,
            "password_ok": draw(st.sampled_from([None, True, False])),
            "identities": [f"device:{who}"],
            **facts,
        }
    if kind in ("admit", "deny", "remove", "ban", "mute", "ask_to_unmute"):
        return {"type": kind, "actor": draw(hosts), "participant": who}
    if kind in ("admit_all", "mute_all"):
        return {"type": kind, "actor": draw(hosts)}
    if kind == "lock":
        return {"type": "lock", "actor": draw(hosts), "locked": draw(st.booleans())}
    if kind == "hand_lowered":
        return {"type": kind, "participant": who, "actor": draw(st.none() | hosts)}
    if kind in ("publish", "publish_stopped"):
        source = draw(st.sampled_from(["microphone", "camera", "screen", "screen_audio"]))
        event = {
            "type": f"{kind}_requested" if kind == "publish" else kind,
            "participant": who,
            "source": source,
        }
        if kind == "publish" and source == "screen":
            event["surface"] = draw(st.sampled_from(["window", "monitor", "browser"]))
        return event
    if kind == "chat":
        return {"type": kind, "participant": who, "to": draw(st.none() | person)}
    if kind == "share_requested":
        return {"type": kind, "participant": who, "kind": draw(st.sampled_from(["screen", "file"]))}
    if kind in ("grant", "revoke"):
        event = {
            "type": kind,
            "actor": draw(hosts),
            "participant": who,
            "kind": draw(st.sampled_from(["screen", "file"])),
        }
        if kind == "grant":
            event["minutes"] = draw(st.none() | st.integers(1, 2))
        return event
    if kind == "camera_frames":
        return {"type": kind, "participant": who, "fps": draw(st.sampled_from([0.0, 3.0, 30.0]))}
    if kind == "camera_lost":
        return {
            "type": kind,
            "participant": who,
            "cause": draw(st.sampled_from(["stopped", "frozen", "black"])),
        }
    if kind == "set_role":
        return {
            "type": kind,
            "actor": draw(hosts),
            "participant": who,
            "role": draw(st.sampled_from(["cohost", "participant"])),
        }
    if kind == "policy_update":
        return {"type": kind, "actor": draw(hosts), "policy": draw(policy_docs)}
    if kind == "rename":
        return {
            "type": kind,
            "participant": who,
            "name": draw(st.sampled_from(["Pat One", "Al", "Alice Host"])),
        }
    if kind in (
        "unmute_requested",
        "self_muted",
        "hand_raised",
        "camera_restored",
        "share_confirmed",
        "left",
        "disconnected",
        "resumed",
    ):
        return {"type": kind, "participant": who}
    raise AssertionError(kind)


class Invariants:
    """An independent model of the promises, checked against the engine after every step.

    It does not trust the engine's own bookkeeping (``muted``, ``grants``): it keeps its
    own record of who may speak and who holds a live grant, from the decisions a host
    would see, and of which identities were banned.
    """

    def __init__(self) -> None:
        self.banned: set[str] = set()
        self.may_speak: set[str] = set()
        self.screen_grants: dict[str, float] = {}
        self.before: dict[str, Any] = {}
        self.previous: MeetingState | None = None

    def check(self, sim: Simulation, policy_then: Policy, step: Step) -> None:
        self._only_a_confirmation_opens_a_screen(step)
        self._private_messages_reach_only_their_recipient(policy_then, step)
        self._follow(sim, policy_then, step)
        state, policy, now = sim.state, sim.policy, sim.now
        self._resume_gives_back_the_current_place(step, state.participants)
        self._nobody_unnamed_changes(step, state.participants)
        self._the_state_before_is_left_as_it_was()
        self.before, self.previous = dict(state.participants), state
        for person in state.participants.values():
            if not person.connected:
                assert not person.open_gates, f"{person.id} is away but forwarded"
            if "microphone" in person.open_gates and not person.is_host:
                assert policy.audio.unmute == "self" or person.id in self.may_speak, (
                    f"{person.id}'s microphone is forwarded though the policy never let them speak"
                )
            if not person.admitted:
                assert not person.open_gates, f"{person.id} is waiting but forwarded"
            if "screen" in person.open_gates:
                mode = policy.screen_share.allowed
                assert mode != "nobody", "a screen is forwarded though nobody may share"
                if not person.is_host:
                    assert mode != "host_only", "a participant shares in a host-only meeting"
                    if mode == "with_grant":
                        assert self.screen_grants.get(person.id, -1.0) > now, (
                            f"{person.id} shares without a live grant"
                        )
        assert len(state.sharing_screens()) <= policy.screen_share.max_concurrent
        # The count that max_participants is held to, carried from state to state.
        admitted = sum(1 for person in state.participants.values() if person.admitted)
        assert state.admitted_count() == admitted
        # The hosts and the waiting room's count per network, carried the same way
        # through decisions that change many people (admit_all, end, a promotion).
        hosts = {person.id for person in state.participants.values() if person.is_host}
        assert {person.id for person in state.hosts()} == hosts
        waiting: dict[str, int] = {}
        for person in state.waiting():
            source = counted_source(person.role, person.invited, person.source)
            if source is not None:
                waiting[source] = waiting.get(source, 0) + 1
        for source in {person.source for person in state.participants.values()} - {None}:
            assert state.waiting_from(source) == waiting.get(source, 0)

    @staticmethod
    def _only_a_confirmation_opens_a_screen(step: Step) -> None:
        opened = [
            e for e in step.decision.effects if isinstance(e, OpenGate) and e.source == "screen"
        ]
        if opened:
            assert step.event.type == "share_confirmed", (
                f"a {step.event.type} opened a screen nobody confirmed"
            )

    def _private_messages_reach_only_their_recipient(self, policy: Policy, step: Step) -> None:
        for effect in step.decision.effects:
            if not isinstance(effect, DeliverChat) or effect.to is None:
                continue
            recipient = self.before.get(effect.to)
            sender = self.before.get(effect.sender)
            assert recipient is not None
            assert sender is not None
            assert recipient.admitted, "written to someone waiting"
            assert recipient.connected, "written to someone whose connection dropped"
            mode = policy.chat.private
            assert mode != "off", "a private message where the policy has none"
            if mode == "hosts":
                assert sender.is_host or recipient.is_host, "participants wrote to each other"

    def _resume_gives_back_the_current_place(self, step: Step, now: Any) -> None:
        """A resume restores the meeting's current state for the person: the same status,
        role, mute, permission to speak, hand and grants as just before, never defaults."""
        event: Any = step.event
        if event.type != "resumed" or not step.decision.allowed:
            return
        before, after = self.before[event.participant], now[event.participant]
        for field in ("status", "role", "muted", "may_unmute", "hand_raised", "grants"):
            assert getattr(before, field) == getattr(after, field), (
                f"resuming changed {event.participant}'s {field}: "
                f"{getattr(before, field)!r} -> {getattr(after, field)!r}"
            )
        assert after.connected
        assert not after.open_gates

    def _the_state_before_is_left_as_it_was(self) -> None:
        """A decision makes a new state and leaves the one before it as it was (the Room
        compares the two to tell people what changed)."""
        if self.previous is not None:
            kept = self.previous.participants
            assert list(kept) == list(self.before), "the state before lost or gained people"
            assert all(kept[pid] is person for pid, person in self.before.items()), (
                "the state before was changed in place"
            )

    def _nobody_unnamed_changes(self, step: Step, now: Any) -> None:
        """Everyone whose place is not the very same object as before the step (new,
        changed or gone) is named by the decision's effects."""
        changed = {pid for pid in {*now, *self.before} if now.get(pid) is not self.before.get(pid)}
        unnamed = changed - set(touched_by(step.decision))
        assert not unnamed, f"a {step.event.type} changed {sorted(unnamed)} unnamed"

    def _follow(self, sim: Simulation, policy: Policy, step: Step) -> None:
        decision: Decision = step.decision
        event: Any = step.event
        if not decision.allowed:
            self._entries(policy, step)
            return
        kind = event.type
        if kind == "ask_to_unmute":
            self.may_speak.add(event.participant)
        elif kind == "mute":
            self.may_speak.discard(event.participant)
        elif kind == "mute_all":
            self.may_speak = {p.id for p in sim.state.participants.values() if p.is_host}
        elif kind in ("policy_update", "set_role"):
            # Whoever is unmuted when the rules change stays unmuted (nobody is cut off).
            self.may_speak |= {p.id for p in sim.state.participants.values() if not p.muted}
        elif kind == "grant" and event.kind == "screen":
            minutes = event.minutes or policy.screen_share.grant_minutes
            self.screen_grants[event.participant] = event.at + minutes * 60
        elif kind == "revoke" and event.kind == "screen":
            self.screen_grants.pop(event.participant, None)
        # Whoever a policy update admits enters under the new policy (its mute_on_entry).
        self._entries(event.policy if kind == "policy_update" else policy, step)

    def _entries(self, policy: Policy, step: Step) -> None:
        decision: Decision = step.decision
        event: Any = step.event
        for effect in decision.effects:
            if isinstance(effect, AddParticipant):
                if event.role != "host":
                    assert not self.banned & set(event.identities), "a banned person got back in"
                if effect.participant.status == "admitted":
                    assert decision.reason.value in ADMITTING
                    room = policy.entry.waiting_room
                    bypass = (
                        not room.enabled
                        or event.role == "host"
                        or (event.role == "cohost" and "cohost" in room.bypass)
                        or (event.invited and "invited" in room.bypass)
                    )
                    assert bypass, f"{event.participant} skipped the waiting room without a bypass"
                    self._admitted(policy, effect.participant.id)
            elif isinstance(effect, Admit):
                assert decision.reason.value in {"admitted_by_host", "policy_updated"}
                self._admitted(policy, effect.participant)
            elif isinstance(effect, BanIdentities):
                self.banned |= set(effect.identities)
            elif isinstance(effect, SendToWaitingRoom | Dismiss):
                self.may_speak.discard(effect.participant)
                self.screen_grants.pop(effect.participant, None)

    def _admitted(self, policy: Policy, participant: str) -> None:
        if not policy.audio.mute_on_entry:
            self.may_speak.add(participant)
        else:
            self.may_speak.discard(participant)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=policies(),
    script=st.lists(
        st.tuples(events(policies()), st.sampled_from([0.0, 0.0, 0.5, 1.0, 4.0, 30.0, 90.0])),
        min_size=30,
        max_size=80,
    ),
)
def test_the_missions_promises_hold_over_random_meetings(
    doc: dict[str, Any], script: list[tuple[dict[str, Any], float]]
) -> None:
    sim = Simulation.start(validate_policy(doc))
    invariants = Invariants()
    now = 0.0
    # Everyone arrives first (most meetings start that way), then anything can happen.
    for raw, gap in [(event, 0.0) for event in OPENING] + script:
        now += gap
        event = EVENT_ADAPTER.validate_json(json.dumps({**raw, "at": now}))
        # One step at a time (each due timer, then the event), so that each is checked
        # against the meeting as it left it, not as a later step in the same instant did.
        while True:
            policy_then = sim.policy
            step = sim.fire_next(now)
            if step is None:
                break
            invariants.check(sim, policy_then, step)
        (step,) = sim.step(event)  # its timers have fired: the event's step alone
        invariants.check(sim, policy_then, step)
