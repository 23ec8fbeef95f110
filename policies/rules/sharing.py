"""Publishing tracks and sharing screens: grants, their expiry, one share at a time.

The media plane forwards a track only while its gate is open, and only the
decisions here open a gate. Grants are time-boxed and, by default, end when
the share they allowed stops (a share is one window, for one purpose).

A screen is shared the way a careful host is told to share: check the window
before it goes out. Publishing a screen only marks it published; its gate
opens when the sharer confirms what the preview showed (``ShareConfirmed``),
so a client that publishes and never confirms has nothing forwarded.
"""

from __future__ import annotations

from ..decision import BUILTIN_RULE, Decision, allow, refuse
from ..effects import (
    CancelTimer,
    CloseGate,
    Effect,
    EndGrant,
    MarkPublished,
    Notify,
    OpenGate,
    SetGrant,
    StartTimer,
)
from ..events import (
    CameraLost,
    GrantExpired,
    GrantRequested,
    PublishRequested,
    PublishStopped,
    RevokeRequested,
    ShareConfirmed,
    ShareKind,
    ShareRequested,
)
from ..model import Policy
from ..reasons import Reason
from ..state import Grant, MeetingState, Participant
from .camera import camera_lost
from .common import GRANT_TIMERS, host_target, in_meeting, share_section

__all__ = [
    "confirm_share",
    "grant",
    "grant_expired",
    "may_share",
    "publish",
    "publish_stopped",
    "revoke",
    "share_requested",
    "stop_share_effects",
]


def may_share(
    policy: Policy, person: Participant, kind: ShareKind, now: float
) -> tuple[Reason, str] | None:
    """None when this person may share now; else the refusal's reason and rule pointer."""
    mode, section = share_section(policy, kind)
    rule = f"{section}/allowed"
    if mode == "nobody":
        return Reason.SHARE_NOT_ALLOWED, rule
    if person.is_host or mode == "anyone":
        return None
    if mode == "host_only":
        return Reason.SHARE_HOST_ONLY, rule
    if person.live_grant(kind, now) is None:
        return Reason.SHARE_NEEDS_GRANT, rule
    return None


def share_refusal(reason: Reason, rule: str, kind: ShareKind) -> Decision:
    return refuse(reason, rule, kind=kind)


def stop_share_effects(policy: Policy, person: Participant, *, end_grant: bool) -> list[Effect]:
    """Close a participant's screen (and its audio) and, if asked, end the screen grant."""
    effects: list[Effect] = []
    for source in ("screen", "screen_audio"):
        if source in person.open_gates:
            effects.append(CloseGate(person.id, source))
        if source in person.published:
            effects.append(MarkPublished(person.id, source, False))
    if end_grant and person.grant("screen") is not None:
        effects.append(EndGrant(person.id, "screen"))
        effects.append(CancelTimer("screen_grant", person.id))
    if "screen" in person.open_gates:
        effects.append(Notify("everyone", "share_stopped", person.id, params={"name": person.name}))
    return effects


def _others_sharing(state: MeetingState, person: Participant) -> int:
    """Confirmed shares of other people (a share still in its preview takes no place)."""
    return sum(1 for p in state.sharing_screens() if p.id != person.id)


def _share_limit(max_concurrent: int) -> Decision:
    return refuse(
        Reason.SHARE_LIMIT_REACHED, "/screen_share/max_concurrent", max_concurrent=max_concurrent
    )


def _publish_screen(
    policy: Policy, state: MeetingState, person: Participant, event: PublishRequested
) -> Decision:
    refusal = may_share(policy, person, "screen", event.at)
    if refusal is not None:
        return share_refusal(*refusal, "screen")
    share = policy.screen_share
    if event.source == "screen_audio":
        if not share.audio:
            return refuse(Reason.SCREEN_AUDIO_NOT_ALLOWED, "/screen_share/audio")
        if "screen" not in person.published:
            return share_refusal(Reason.SHARE_NEEDS_GRANT, "/screen_share/allowed", "screen")
        if "screen" not in person.open_gates:  # its sound goes out with the confirmed screen
            return allow(
                Reason.SHARE_AWAITING_CONFIRMATION,
                "/screen_share/audio",
                MarkPublished(person.id, "screen_audio", True),
                source="screen_audio",
            )
        return allow(
            Reason.PUBLISHED,
            "/screen_share/audio",
            MarkPublished(person.id, "screen_audio", True),
            OpenGate(person.id, "screen_audio"),
            source="screen_audio",
        )
    surface = event.surface or "monitor"
    if surface not in share.surfaces:
        return refuse(
            Reason.SURFACE_NOT_ALLOWED,
            "/screen_share/surfaces",
            surface=surface,
            allowed=tuple(share.surfaces),
        )
    if _others_sharing(state, person) >= share.max_concurrent:
        return _share_limit(share.max_concurrent)
    return allow(
        Reason.SHARE_AWAITING_CONFIRMATION,
        "/screen_share/allowed",
        MarkPublished(person.id, "screen", True),
        source="screen",
    )


def confirm_share(policy: Policy, state: MeetingState, event: ShareConfirmed) -> Decision:
    """The sharer confirms its published screen after the preview: the gate opens now,
    with every check of publishing made again (a grant may have ended meanwhile, another
    share may have been confirmed first)."""
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    refusal = may_share(policy, person, "screen", event.at)
    if refusal is not None:
        return share_refusal(*refusal, "screen")
    if "screen" not in person.published:
        return refuse(Reason.SHARE_NOT_PUBLISHED, BUILTIN_RULE)
    if "screen" in person.open_gates:
        return allow(Reason.SHARE_CONFIRMED, "/screen_share/allowed", already="yes")
    if _others_sharing(state, person) >= policy.screen_share.max_concurrent:
        return _share_limit(policy.screen_share.max_concurrent)
    effects: list[Effect] = [OpenGate(person.id, "screen")]
    if "screen_audio" in person.published and policy.screen_share.audio:
        effects.append(OpenGate(person.id, "screen_audio"))
    effects.append(Notify("everyone", "share_started", person.id, params={"name": person.name}))
    return allow(Reason.SHARE_CONFIRMED, "/screen_share/allowed", *effects)


def publish(policy: Policy, state: MeetingState, event: PublishRequested) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    if event.source in ("screen", "screen_audio"):
        return _publish_screen(policy, state, person, event)
    if event.source == "microphone":
        marked = MarkPublished(person.id, "microphone", True)
        if person.muted:
            return allow(Reason.PUBLISHED_MUTED, "/audio/mute_on_entry", marked)
        return allow(
            Reason.PUBLISHED,
            "/audio",
            marked,
            OpenGate(person.id, "microphone"),
            source="microphone",
        )
    return allow(
        Reason.PUBLISHED,
        "/entry/camera",
        MarkPublished(person.id, "camera", True),
        OpenGate(person.id, "camera"),
        source="camera",
    )


def publish_stopped(policy: Policy, state: MeetingState, event: PublishStopped) -> Decision:
    person = state.get(event.participant)
    if person is None:
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE, who="you")
    if not person.admitted:
        return refuse(Reason.NOT_ADMITTED, "/entry/waiting_room/enabled", what="media")
    if event.source == "screen":
        if event.by == "media" and "screen" not in person.published:
            # The track of a share that had ended already (stopped, revoked, expired): a
            # grant given since is not its grant, and stays.
            rule = "/screen_share/grant_ends_with_share"
            return allow(Reason.PUBLISH_STOPPED, rule, source="screen")
        end_grant = policy.screen_share.grant_ends_with_share
        effects = stop_share_effects(policy, person, end_grant=end_grant)
        if end_grant and person.grant("screen") is not None:
            effects.append(Notify("participant", "grant_ended", person.id, "screen"))
        return allow(
            Reason.PUBLISH_STOPPED,
            "/screen_share/grant_ends_with_share",
            *effects,
            source="screen",
        )
    stopped: list[Effect] = []
    if event.source in person.open_gates:
        stopped.append(CloseGate(person.id, event.source))
    if event.source in person.published:
        stopped.append(MarkPublished(person.id, event.source, False))
    if event.source == "camera" and person.camera == "ok":
        # A camera the policy requires, stopped on purpose, is a camera lost: stopping
        # must not be a way around entry.camera (a client may send stop_publish at will).
        lost = camera_lost(
            policy, state, CameraLost(participant=person.id, cause="stopped", at=event.at)
        )
        if not lost.allowed:
            with_loss = (*stopped, *lost.effects)
            return Decision(False, lost.reason, lost.rule, lost.params, with_loss)
    return allow(Reason.PUBLISH_STOPPED, BUILTIN_RULE, *stopped, source=event.source)


def share_requested(policy: Policy, state: MeetingState, event: ShareRequested) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    _, section = share_section(policy, event.kind)
    refusal = may_share(policy, person, event.kind, event.at)
    if refusal is None:
        return allow(Reason.SHARE_NO_GRANT_NEEDED, f"{section}/allowed", kind=event.kind)
    if refusal[0] != Reason.SHARE_NEEDS_GRANT:
        return share_refusal(*refusal, event.kind)
    return allow(
        Reason.SHARE_REQUEST_SENT,
        f"{section}/allowed",
        Notify("hosts", "share_requested", person.id, event.kind, params={"name": person.name}),
        kind=event.kind,
    )


def grant(policy: Policy, state: MeetingState, event: GrantRequested) -> Decision:
    target = host_target(state, event.actor, event.participant)
    if isinstance(target, Decision):
        return target
    mode, section = share_section(policy, event.kind)
    if mode != "with_grant":
        return refuse(Reason.GRANTS_NOT_USED, f"{section}/allowed", mode=mode)
    default = (
        policy.screen_share.grant_minutes
        if event.kind == "screen"
        else policy.file_share.grant_minutes
    )
    seconds = event.seconds or (event.minutes or default) * 60
    new = Grant(event.kind, state.next_grant_id, event.at + seconds)
    return allow(
        Reason.GRANTED,
        f"{section}/grant_minutes",
        SetGrant(target.id, new),
        StartTimer(GRANT_TIMERS[event.kind], target.id, new.expires_at, new.grant_id),
        Notify("participant", "grant_received", target.id, event.kind, params={"seconds": seconds}),
        name=target.name,
        kind=event.kind,
        seconds=seconds,
    )


def _end_grant(policy: Policy, person: Participant, kind: ShareKind, topic: str) -> list[Effect]:
    if kind == "screen":
        # A grant that ends takes the share it allowed with it (unless the person is a host).
        effects = stop_share_effects(policy, person, end_grant=True) if not person.is_host else []
        if not any(isinstance(e, EndGrant) for e in effects):
            effects += [EndGrant(person.id, kind), CancelTimer(GRANT_TIMERS[kind], person.id)]
    else:
        effects = [EndGrant(person.id, kind), CancelTimer(GRANT_TIMERS[kind], person.id)]
    effects.append(Notify("participant", topic, person.id, kind))
    return effects


def revoke(policy: Policy, state: MeetingState, event: RevokeRequested) -> Decision:
    target = host_target(state, event.actor, event.participant)
    if isinstance(target, Decision):
        return target
    _, section = share_section(policy, event.kind)
    if target.grant(event.kind) is None:
        return refuse(Reason.NO_GRANT, f"{section}/allowed", name=target.name, kind=event.kind)
    return allow(
        Reason.REVOKED,
        f"{section}/allowed",
        *_end_grant(policy, target, event.kind, "grant_revoked"),
        name=target.name,
        kind=event.kind,
    )


def grant_expired(policy: Policy, state: MeetingState, event: GrantExpired) -> Decision:
    person = state.get(event.participant)
    current = person.grant(event.kind) if person else None
    if person is None or current is None or current.grant_id != event.grant_id:
        return refuse(Reason.STALE_TIMER, BUILTIN_RULE)
    section = "/screen_share" if event.kind == "screen" else "/file_share"
    return allow(
        Reason.GRANT_EXPIRED,
        f"{section}/grant_minutes",
        *_end_grant(policy, person, event.kind, "grant_expired"),
        kind=event.kind,
    )
