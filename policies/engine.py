"""``decide(policy, state, event) -> Decision``: the pure heart of meetwarden.

No I/O, no clock, no randomness: the same inputs always give the same
decision, so meetings can be replayed and policies unit-tested. Deny
overrides and the default is deny: an event no rule knows is refused, and a
rule that fails becomes a refusal that says so, never an exception (the way
Cedar and OPA treat rule errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import events as ev
from .decision import BUILTIN_RULE, Decision, refuse
from .model import Policy
from .reasons import Reason
from .rules import audio, camera, chat, entry, files, policy_update, presence, roster, sharing
from .state import MeetingState

__all__ = ["decide"]

Rule = Callable[[Policy, MeetingState, Any], Decision]

RULES: dict[type, Rule] = {
    ev.JoinRequested: entry.join,
    ev.Left: entry.leave,
    ev.Disconnected: presence.disconnected,
    ev.Resumed: presence.resumed,
    ev.ReconnectExpired: presence.reconnect_expired,
    ev.AdmitRequested: entry.admit,
    ev.AdmitAllRequested: entry.admit_all,
    ev.DenyRequested: entry.deny,
    ev.LockRequested: entry.lock,
    ev.RemoveRequested: roster.remove,
    ev.BanRequested: roster.ban,
    ev.RoleChangeRequested: roster.set_role,
    ev.RenameRequested: roster.rename,
    ev.ChatSent: chat.chat,
    ev.EndMeetingRequested: roster.end_meeting,
    ev.PolicyUpdateRequested: policy_update.policy_update,
    ev.UnmuteRequested: audio.unmute,
    ev.SelfMuted: audio.self_muted,
    ev.MuteRequested: audio.mute,
    ev.MuteAllRequested: audio.mute_all,
    ev.AskToUnmuteRequested: audio.ask_to_unmute,
    ev.HandRaised: audio.hand_raised,
    ev.HandLowered: audio.hand_lowered,
    ev.PublishRequested: sharing.publish,
    ev.PublishStopped: sharing.publish_stopped,
    ev.ShareRequested: sharing.share_requested,
    ev.ShareConfirmed: sharing.confirm_share,
    ev.GrantRequested: sharing.grant,
    ev.RevokeRequested: sharing.revoke,
    ev.GrantExpired: sharing.grant_expired,
    ev.FileUploadRequested: files.upload_requested,
    ev.FileOffered: files.file_offered,
    ev.FileDownloadRequested: files.download_requested,
    ev.CameraFramesSeen: camera.camera_frames,
    ev.CameraLost: camera.camera_lost,
    ev.CameraRestored: camera.camera_restored,
    ev.CameraCheckDue: camera.camera_check_due,
    ev.CameraGraceExpired: camera.camera_grace_expired,
}

_AFTER_END = (ev.Left, ev.Disconnected)


def decide(policy: Policy, state: MeetingState, event: ev.Event) -> Decision:
    """Decides one event against the policy, given the meeting as it is now."""
    rule = RULES.get(type(event))
    if rule is None:
        return refuse(Reason.RULE_ERROR, BUILTIN_RULE, event=type(event).__name__)
    if state.ended and not isinstance(event, _AFTER_END):
        return refuse(Reason.MEETING_ENDED, BUILTIN_RULE)
    try:
        return rule(policy, state, event)
    except Exception as error:  # a failing rule refuses; it never takes the meeting down
        return refuse(Reason.RULE_ERROR, BUILTIN_RULE, error=type(error).__name__)
