"""What the stateful enforcement test expects of a meeting: a small model of the policy.

The model is kept beside the server's state, not derived from it: who is in,
with which role, whether their microphone may be heard, whether their screen
may be shared. ``agrees_with_model`` holds the roster a host sees against it:
exactly where the policy is simple (admission, role, mute, camera), as an
upper bound where it is not (a screen: one at a time, grants that end with
the share).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meetwarden import protocol as wire
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

from .adversary import Adversary
from .counting import HonestCounter
from .enforced import Meeting

__all__ = ["POLICIES", "SOURCES", "Guest", "Room", "agrees_with_model", "tracks"]

SOURCES = ("camera", "microphone", "screen")
POLICIES: dict[str, dict[str, Any]] = {
    "guarded": {
        "audio": {"mute_on_entry": True, "unmute": "after_raised_hand"},
        "screen_share": {"allowed": "with_grant", "surfaces": ["window"]},
    },
    "open": {
        "entry": {"waiting_room": {"enabled": False}},
        "audio": {"mute_on_entry": False, "unmute": "self"},
        "screen_share": {"allowed": "anyone", "surfaces": ["window"]},
    },
    "strict": {
        "audio": {"mute_on_entry": False, "unmute": "host_only"},
        "screen_share": {"allowed": "host_only", "surfaces": ["window"]},
    },
}


def tracks(sources: set[str]) -> dict[str, Any]:
    made = {
        "camera": lambda: SyntheticVideoTrack(128, 96, fps=12),
        "microphone": lambda: SyntheticAudioTrack(frequency=550.0),
        "screen": lambda: SyntheticVideoTrack(128, 96, fps=8),
    }
    return {source: made[source]() for source in sorted(sources)}


@dataclass(eq=False)
class Guest:
    """An adversary in one meeting, and what the test expects of it (its model)."""

    meeting: int
    adversary: Adversary
    status: str = "waiting"
    role: str = "participant"
    muted: bool = True
    may_unmute: bool = False
    grant: bool = False
    sources: set[str] = field(default_factory=set)
    """What it publishes (and, whatever the server says, keeps sending)."""
    wants: set[str] = field(default_factory=set)
    """What it publishes as soon as it is let in."""

    @property
    def id(self) -> str:
        return self.adversary.participant_id or ""

    def __repr__(self) -> str:
        return f"<{self.adversary.name} in meeting {self.meeting}, {self.status}>"


@dataclass
class Room:
    meeting: Meeting
    watcher: HonestCounter
    policy_name: str
    guests: list[Guest] = field(default_factory=list)

    @property
    def counters(self) -> list[HonestCounter]:
        return [self.meeting.host, self.watcher]

    def present(self, *statuses: str) -> list[Guest]:
        return [g for g in self.guests if g.status in statuses]

    def policy(self) -> dict[str, Any]:
        return POLICIES[self.policy_name]


def agrees_with_model(
    room: Room, roster: dict[str, wire.RosterEntry], names: dict[str, str]
) -> None:
    """The roster a host sees (the engine's state) against what the model expects."""
    inside = {c.participant_id for c in room.counters} | {g.id for g in room.present("admitted")}
    assert set(roster) == inside, (
        f"in the roster: {sorted(names.get(i, i) for i in roster)}; "
        f"expected: {sorted(names.get(i, i) for i in inside)}"
    )
    share = room.policy()["screen_share"]["allowed"]
    for guest in room.present("admitted"):
        entry = roster[guest.id]
        heard = "microphone" in entry.publishing
        assert entry.role == guest.role, f"{guest} is a {entry.role}, not a {guest.role}"
        assert entry.muted == guest.muted, f"{guest}: muted is {entry.muted}"
        assert heard == ("microphone" in guest.sources and not guest.muted), (
            f"{guest}'s microphone {'is' if heard else 'is not'} forwarded"
        )
        assert ("camera" in entry.publishing) == ("camera" in guest.sources)
        if "screen" in entry.publishing:
            assert guest.role == "cohost" or share == "anyone" or guest.grant, (
                f"{guest}'s screen is forwarded without a right to share"
            )
