"""The roster: remove and ban, roles, renames, and ending the meeting.

Removal follows ``removal.rejoin``; a ban is a removal that never lets the
person back while the meeting lives. Bans are keyed by every stable
identity the server gave the person (BigBlueButton's rejoin-after-kick bugs,
#9188 and #21207, came from keying on the session alone).
"""

from __future__ import annotations

from dataclasses import replace

from ..decision import BUILTIN_RULE, Decision, allow, refuse
from ..effects import (
    BanIdentities,
    CloseGate,
    Dismiss,
    Effect,
    EndMeeting,
    Notify,
    RequireWaitingRoom,
    SetName,
    SetRole,
)
from ..events import (
    BanRequested,
    EndMeetingRequested,
    RemoveRequested,
    RenameRequested,
    RoleChangeRequested,
)
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState
from .common import host_acting, host_target, teardown_effects
from .entry import name_refusal
from .sharing import may_share, stop_share_effects

__all__ = ["ban", "end_meeting", "remove", "rename", "set_role"]


def remove(policy: Policy, state: MeetingState, event: RemoveRequested) -> Decision:
    target = host_target(state, event.actor, event.participant, waiting_ok=True)
    if isinstance(target, Decision):
        return target
    effects: list[Effect] = [*teardown_effects(target), Dismiss(target.id, "removed")]
    rejoin = policy.removal.rejoin
    if rejoin == "never" and target.identities:
        effects.append(BanIdentities(target.identities))
    elif rejoin == "via_waiting_room" and target.identities:
        effects.append(RequireWaitingRoom(target.identities))
    effects.append(Notify("everyone", "roster_changed", target.id))
    return allow(Reason.REMOVED, "/removal/rejoin", *effects, name=target.name)


def ban(policy: Policy, state: MeetingState, event: BanRequested) -> Decision:
    target = host_target(state, event.actor, event.participant, waiting_ok=True)
    if isinstance(target, Decision):
        return target
    return allow(
        Reason.REMOVED,
        BUILTIN_RULE,
        *teardown_effects(target),
        Dismiss(target.id, "banned"),
        BanIdentities(target.identities),
        Notify("everyone", "roster_changed", target.id),
        name=target.name,
        banned="yes",
    )


def set_role(policy: Policy, state: MeetingState, event: RoleChangeRequested) -> Decision:
    target = host_target(state, event.actor, event.participant, host_only=True)
    if isinstance(target, Decision):
        return target
    effects: list[Effect] = [SetRole(target.id, event.role)]
    if event.role == "participant":
        # Powers that came with the role go with it: a share it allowed stops.
        demoted = replace(target, role="participant")
        if "screen" in target.published and may_share(policy, demoted, "screen", event.at):
            effects += stop_share_effects(policy, target, end_grant=False)
    else:
        effects.append(Notify("participant", "promoted", target.id))
    effects.append(Notify("everyone", "roster_changed", target.id))
    return allow(Reason.ROLE_CHANGED, BUILTIN_RULE, *effects, name=target.name, role=event.role)


def rename(policy: Policy, state: MeetingState, event: RenameRequested) -> Decision:
    person = state.get(event.participant)
    if person is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE, who="you")
    name, refusal = name_refusal(policy, state, person.id, event.name, person.role)
    if refusal is not None:
        return refusal
    return allow(
        Reason.RENAMED,
        "/entry/full_name",
        SetName(person.id, name),
        Notify("hosts", "renamed", person.id, params={"old_name": person.name, "name": name}),
        Notify("everyone", "roster_changed", person.id),
        name=name,
    )


def end_meeting(policy: Policy, state: MeetingState, event: EndMeetingRequested) -> Decision:
    actor = host_acting(state, event.actor, host_only=True)
    if isinstance(actor, Decision):
        return actor
    effects: list[Effect] = []
    for person in state.participants.values():
        effects += [CloseGate(person.id, s) for s in sorted(person.open_gates)]
        effects.append(Dismiss(person.id, "ended"))
    effects.append(EndMeeting())
    return allow(Reason.MEETING_ENDED, BUILTIN_RULE, *effects, by="host")
