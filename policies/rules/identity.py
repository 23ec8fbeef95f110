"""Who a person is, for this meeting: what bans hold against (``entry.identity``).

With ``anyone``, a person is what the server could see of them: their device
token and their name's skeleton (and their invite, if they came with one). A
ban holds against those, so a person who clears their browser and types
another name is someone new: the policy's explanation says so plainly.

With ``invited``, a person is their personal invite. Only invites open the
meeting; an invite is one person at a time (the first join binds it until
they are gone); bans and removals hold against the invite, not the name, so
neither a new name nor a new device brings a removed person back, and an
invited person who shares a banned person's name is not turned away.
(BigBlueButton's rejoin-after-kick bugs, #9188 and #21207, came from keying
bans on what a client could change.)
"""

from __future__ import annotations

from ..decision import Decision, refuse
from ..events import JoinRequested
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState, Participant

__all__ = ["holds_own_invite", "identity_refusal", "matched_keys", "person_keys"]

INVITE_PREFIX = "invite:"


def person_keys(event: JoinRequested) -> frozenset[str]:
    """Every key the person is known by (a removal or a ban records them all)."""
    keys = set(event.identities)
    if event.invite is not None:
        keys.add(INVITE_PREFIX + event.invite)
    return frozenset(keys)


def matched_keys(policy: Policy, event: JoinRequested) -> frozenset[str]:
    """The keys bans and removals are matched against for this join, by the policy's mode."""
    if policy.entry.identity == "invited":
        return frozenset({INVITE_PREFIX + event.invite}) if event.invite else frozenset()
    return person_keys(event)


def identity_refusal(policy: Policy, state: MeetingState, event: JoinRequested) -> Decision | None:
    """With ``invited``: no invite, or an invite someone else holds now."""
    if policy.entry.identity != "invited" or event.role == "host":
        return None
    if event.invite is None:
        return refuse(Reason.INVITE_REQUIRED, "/entry/identity")
    if any(person.invite == event.invite for person in state.participants.values()):
        return refuse(Reason.INVITE_IN_USE, "/entry/identity")
    return None


def holds_own_invite(state: MeetingState, person: Participant) -> bool:
    """True for a host, and for someone who is the first in the meeting with their invite
    (when a policy turns ``invited`` on, the later holders of a shared invite are not)."""
    if person.role == "host":
        return True
    if person.invite is None:
        return False
    first = next(p for p in state.participants.values() if p.invite == person.invite)
    return first.id == person.id
