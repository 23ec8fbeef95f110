"""Chat: who may send, and who may be written to privately.

``chat.allowed`` says who may send at all; ``chat.private`` who may be written
to privately, as Zoom's "participants can chat with" does: nobody, the host
and co-hosts only (hosts may still write to anyone), or everyone. A private
message reaches its recipient and is echoed to its sender, nobody else; the
recipient must be admitted to this meeting and connected, so that nothing is
ever sent to someone waiting (they see nothing of the meeting) or lost in the
gap of a dropped connection. The text never reaches the engine: the audit log
keeps who wrote to whom, not what.
"""

from __future__ import annotations

from ..decision import BUILTIN_RULE, Decision, allow, refuse
from ..effects import DeliverChat
from ..events import ChatSent
from ..model import Policy
from ..reasons import Reason
from ..state import MeetingState, Participant
from .common import in_meeting

__all__ = ["chat"]


def _private_refusal(
    policy: Policy, sender: Participant, recipient: Participant
) -> Decision | None:
    mode = policy.chat.private
    if mode == "off":
        return refuse(Reason.CHAT_PRIVATE_OFF, "/chat/private")
    if mode == "hosts" and not (sender.is_host or recipient.is_host):
        return refuse(Reason.CHAT_PRIVATE_HOSTS_ONLY, "/chat/private")
    return None


def chat(policy: Policy, state: MeetingState, event: ChatSent) -> Decision:
    person = in_meeting(state, event.participant)
    if isinstance(person, Decision):
        return person
    mode = policy.chat.allowed
    if mode == "nobody":
        return refuse(Reason.CHAT_NOT_ALLOWED, "/chat/allowed")
    if mode == "host_only" and not person.is_host:
        return refuse(Reason.CHAT_HOST_ONLY, "/chat/allowed")
    if event.to is None:
        return allow(Reason.CHAT_SENT, "/chat/allowed", DeliverChat(person.id, None))
    recipient = state.get(event.to)
    if recipient is None or not recipient.admitted:
        # Someone waiting and someone unknown (gone, or of another meeting) get the same
        # answer: the sender learns nothing about who waits.
        return refuse(Reason.UNKNOWN_PARTICIPANT, BUILTIN_RULE, who="recipient")
    if recipient.id == person.id:
        return refuse(Reason.CHAT_TO_SELF, BUILTIN_RULE)
    refusal = _private_refusal(policy, person, recipient)
    if refusal is not None:
        return refusal
    if not recipient.connected:
        return refuse(Reason.CHAT_RECIPIENT_AWAY, "/entry/reconnect_seconds", name=recipient.name)
    return allow(
        Reason.CHAT_SENT_PRIVATELY,
        "/chat/private",
        DeliverChat(person.id, recipient.id),
        name=recipient.name,
    )
