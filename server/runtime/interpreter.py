"""The one place that applies a decision's effects to the world outside the engine.

``apply`` (in the engine) already made the next state; this applies the rest:
who is told what, the Room's media scope (admit, gates, end a person's
media), timers, and the store writes handed to the background writer. The
``match`` is exhaustive: a new effect type that nothing applies fails the
type check at ``assert_never`` (mypy runs on this module), never a silent
``case _: pass``. Everything here is synchronous: the Room never waits.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any, assert_never

from meetwarden import protocol as wire
from meetwarden.policies import effects as fx

from ..i18n import reason_text, say
from ..media.subscriber import SubscriberOffer
from ..store import FencedOutError
from . import telling
from .decided import Decided
from .media_seam import NoMedia
from .roster_text import with_roster
from .views import meeting_info, self_state, waiting_list

if TYPE_CHECKING:
    from .room import Room

__all__ = ["Interpreter", "offer_message"]

log = logging.getLogger("meetwarden.room")

# What the person sent away reads when a host's action did it (the decision's own
# sentence is addressed to the host who acted): the ``dismissed|why=...`` sentences.
_DISMISSED_BY_HOST = frozenset({"denied", "removed", "banned", "ended"})


def offer_message(offer: SubscriberOffer, ref: int | None = None) -> wire.SubscribeOffer:
    return wire.SubscribeOffer(
        ref=ref,
        sdp=offer.sdp,
        tracks=[
            wire.OfferedTrack(
                mid=track.mid,
                participant=track.participant_id,
                source=track.source,
                kind=track.kind,  # type: ignore[arg-type]
            )
            for track in offer.tracks
        ],
    )


class Interpreter:
    def __init__(self, room: Room) -> None:
        self.room = room

    def apply(self, decided: Decided, context: dict[str, Any]) -> None:
        room = self.room
        for effect in decided.effects:
            match effect:
                case fx.AddParticipant(participant=person):
                    self._welcome(person.id, decided)
                case fx.Admit(participant=pid):
                    room.media.admit(pid)
                    self._send_admitted(pid, decided)
                case fx.Reattach(participant=pid):
                    self._welcome(pid, decided)
                case fx.SendToWaitingRoom(participant=pid):
                    self._end_media(pid)
                    room.timers.cancel_of(pid, keep=("reconnect",))
                    session = room.sessions.get(pid)
                    if session is not None:
                        session.send(
                            wire.BackToWaitingRoom(
                                reason=decided.reason,
                                rule=decided.rule,
                                message=decided.text(session.language),
                                params=decided.params,
                                decision_id=decided.decision_id,
                            )
                        )
                        waiting = reason_text("waiting_for_host", {}, session.language)
                        session.send(wire.Waiting(message=waiting))
                case fx.Dismiss(participant=pid, why=why):
                    self._dismiss(pid, why, decided)
                case fx.EndMedia(participant=pid):
                    self._end_media(pid)
                case fx.OpenGate(participant=pid, source=source):
                    room.media.set_gate(pid, source, True)
                case fx.CloseGate(participant=pid, source=source):
                    room.media.set_gate(pid, source, False)
                case fx.StartTimer():
                    room.timers.start(effect)
                case fx.CancelTimer(kind=kind, participant=pid):
                    room.timers.cancel(kind, pid)
                case fx.BanIdentities(identities=keys):
                    self._write_identities("ban", keys)
                case fx.RequireWaitingRoom(identities=keys):
                    self._write_identities("must_wait", keys)
                case fx.SetLocked(locked=locked):
                    write = partial(
                        room.store.set_locked, room.meeting_id, locked, holder=room.holder
                    )
                    room.writes.put("lock or unlock a meeting", room.fenced(write))
                case fx.SetPolicy():
                    self._policy_replaced(context)
                case fx.EndMeeting():
                    self._ended()
                case fx.Notify():
                    telling.notify(room, effect, decided)
                case fx.DeliverChat(sender=sender, to=to):
                    telling.deliver_chat(room, sender, to, str(context.get("text", "")))
                case fx.ShareFile(file_id=file_id):
                    # server/files/uploads.py puts the announcement in context.
                    shared = context.get("file_shared")
                    if isinstance(shared, wire.FileShared) and shared.file_id == file_id:
                        telling.broadcast(telling.admitted_sessions(room), shared)
                case fx.SetRole(participant=pid, role="participant"):
                    self._withdraw_cohost_invites(pid)
                case (
                    fx.SetConnected()
                    | fx.SetMuted()
                    | fx.AllowUnmute()
                    | fx.SetHand()
                    | fx.MarkPublished()
                    | fx.SetGrant()
                    | fx.EndGrant()
                    | fx.SetRole()  # a promotion: the state carries it
                    | fx.SetName()
                    | fx.SetCamera()
                ):
                    pass  # the state (``apply``) carries these; the views tell people
                case _:
                    assert_never(effect)

    # --- people coming and going ------------------------------------------------------

    def _welcome(self, pid: str, decided: Decided) -> None:
        """Tell a (re)joining person who they are and where they are now."""
        room = self.room
        person = room.state.get(pid)
        session = room.sessions.get(pid)
        if person is None:
            return
        if person.admitted:
            room.media.admit(pid)
        if session is None:
            return
        session.send(
            wire.Welcome(
                participant_id=pid,
                role=person.role,
                device_token=session.device_token,
                resume_token=room.issue_resume_token(pid),
            )
        )
        if person.admitted:
            self._send_admitted(pid, decided)
        else:
            session.send(
                wire.Waiting(
                    message=decided.text(session.language),
                    params=decided.params,
                    reason=decided.reason,
                    decision_id=decided.decision_id,
                )
            )

    def _send_admitted(self, pid: str, decided: Decided) -> None:
        room = self.room
        session = room.sessions.get(pid)
        person = room.state.get(pid)
        if session is None or person is None:
            return
        current = room.resume_tokens.get(pid)
        token = current[0] if current is not None else room.issue_resume_token(pid)
        admitted = wire.Admitted(
            meeting=meeting_info(room.meeting_id, room.policy, room.state, room.revision),
            you=self_state(room.policy, person, room.wall),
            roster=[],  # spliced in as text, encoded once for the decision (roster_text.py)
            resume_token=token,
            reason=decided.reason,
            message=say(session.language, "You are in the meeting."),
            params=decided.params,
            decision_id=decided.decision_id,
            ice_servers=room.ice_servers(pid),
            simulcast=not isinstance(room.media, NoMedia),
        )
        session.send_text(with_roster(admitted, room.roster_text.of(room.state)))
        if person.is_host:
            session.send(wire.WaitingList(waiting=waiting_list(room.state, room.wall)))
            session.send(wire.PolicyMessage(revision=room.revision, policy=room.policy_document))
        if room.speakers:  # someone speaking now: the next change may be long in coming
            session.send(room.speaking_message())

    def _dismiss(self, pid: str, why: str, decided: Decided) -> None:
        room = self.room
        self._end_media(pid)
        room.timers.cancel_of(pid)
        room.resume_tokens.pop(pid, None)
        session = room.sessions.pop(pid, None)
        if session is None:
            return
        if why != "left":
            language = session.language
            text = (
                reason_text("dismissed", {"why": why}, language)
                if why in _DISMISSED_BY_HOST
                else decided.text(language)
            )
            session.send(
                wire.Dismissed(
                    why=why,  # type: ignore[arg-type]
                    reason=decided.reason,
                    rule=decided.rule,
                    message=text,
                    params=decided.params,
                    decision_id=decided.decision_id,
                )
            )
        session.close(wire.CLOSE_NORMAL, why)

    def _end_media(self, pid: str) -> None:
        self.room.media.close_participant(pid)
        self.room.observations.forget(pid)

    # --- what the store keeps (written in the background, in order) -------------------

    def _write_identities(self, kind: str, keys: frozenset[str]) -> None:
        room, at = self.room, time.time()
        write = partial(
            room.store.add_identities,
            room.meeting_id,
            kind,  # type: ignore[arg-type]
            keys,
            at=at,
            holder=room.holder,
        )
        room.writes.put(f"record {kind} identities", room.fenced(write))

    def _policy_replaced(self, context: dict[str, Any]) -> None:
        room, at = self.room, time.time()
        document = context.get("policy_document", {})
        by = str(context.get("by", "host"))
        restored = context.get("restores_revision")
        if isinstance(restored, int):  # the store still has it: nothing to write
            room.revision = restored
            room.policy_document = document
        else:
            previous = (room.policy_before_decision, room.policy_document, room.revision)
            room.revision += 1
            room.policy_document = document
            expected = room.revision

            async def write() -> None:
                try:
                    await room.store.replace_policy(
                        room.meeting_id, json.dumps(document), at=at, by=by, holder=room.holder
                    )
                except FencedOutError:
                    raise  # another node holds the meeting: the Room closes (Room.fenced)
                except Exception as error:
                    # Disk full, a read-only database: the previous policy comes back
                    # through the engine (audited), and the hosts are told why.
                    room.post(partial(room.policy_not_stored, *previous, expected, error))
                    raise

            room.writes.put("replace a meeting's policy", room.fenced(write))
        for session in telling.host_sessions(room):
            session.send(wire.PolicyMessage(revision=room.revision, policy=document))

    def _ended(self) -> None:
        room, at = self.room, time.time()
        room.timers.cancel_all()
        room.ended = True

        async def write() -> None:
            taken_over = False
            try:
                await room.store.end_meeting(room.meeting_id, at, holder=room.holder)
                await room.store.forget_room_state(room.meeting_id, holder=room.holder)
            except FencedOutError:
                # Another node holds the meeting and it goes on there: nothing of it
                # (its files) is let go here; the Room closes (Room.fenced).
                taken_over = True
                raise
            finally:
                if room.on_ended is not None and not taken_over:
                    room.on_ended(room)

        room.writes.put("end a meeting", room.fenced(write))

    def _withdraw_cohost_invites(self, pid: str) -> None:
        """A demoted co-host's invite stops opening the meeting: the role the host took
        away must not come back by joining again with the same link."""
        room = self.room
        person = room.state.get(pid)
        for key in person.identities if person is not None else ():
            if key.startswith("invite:"):
                jti = key.removeprefix("invite:")
                room.withdrawn_invites.add(jti)
                room.writes.put("revoke an invite", partial(room.store.revoke_invite, jti))
