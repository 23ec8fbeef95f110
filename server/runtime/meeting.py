"""One meeting at run time: the only writer of its state, one event at a time.

Every event goes through ``decide``; this class is the one place that applies
a decision's effects: the next state (``apply``), what must persist (bans,
lock, policy), the media gates, the timers, and what each person is told.
All of one event's effects are applied before the next event is decided.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies import effects as fx
from meetwarden.policies.apply import apply
from meetwarden.policies.decision import Decision
from meetwarden.policies.engine import decide
from meetwarden.policies.events import Event
from meetwarden.policies.model import Policy
from meetwarden.policies.state import MeetingState
from meetwarden.policies.timers import timer_event

from ..store import AuditEntry, Store
from .audit import AuditWriter
from .media_seam import MediaSeam
from .session import Session
from .views import meeting_info, roster, self_state, waiting_list

__all__ = ["MeetingRuntime"]

log = logging.getLogger("meetwarden.meeting")

# Notices the views already convey (roster, waiting list, meeting info, own state).
_VIEW_TOPICS = frozenset(
    {
        "roster_changed",
        "audio_changed",
        "hand_changed",
        "waiting_room_changed",
        "policy_changed",
        "lock_changed",
        "admitted",
    }
)
RESUME_GRACE_SECONDS = 120.0
# What the person sent away reads when a host's action did it (the decision's own
# sentence is addressed to the host who acted).
_DISMISSED_TEXT = {
    "denied": "The host did not let you into this meeting.",
    "removed": "The host removed you from the meeting.",
    "banned": "The host removed you from the meeting; you cannot rejoin it.",
    "ended": "The host ended the meeting.",
}
RESUME_TOKEN_SECONDS = 12 * 3600.0


def _broadcast(sessions: list[Session], message: Any) -> None:
    if sessions:
        text = wire.encode(message)
        for session in sessions:
            session.send_text(text)


class MeetingRuntime:
    def __init__(
        self,
        *,
        meeting_id: str,
        policy: Policy,
        policy_document: dict[str, Any],
        revision: int,
        state: MeetingState,
        store: Store,
        audit: AuditWriter,
        media: MediaSeam,
        issue_resume_token: Any,
        on_ended: Callable[[str], None] | None = None,
    ) -> None:
        self.meeting_id = meeting_id
        self.policy = policy
        self.policy_document = policy_document
        self.revision = revision
        self.state = state
        self.sessions: dict[str, Session] = {}
        self.departed: dict[str, float] = {}
        """Participants who left (not dismissed), by wall time: they may resume a while."""
        self._store = store
        self._audit = audit
        self._media = media
        self._issue_resume_token = issue_resume_token
        self._on_ended = on_ended
        self._lock = asyncio.Lock()
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self.ended = state.ended

    # --- time ------------------------------------------------------------------

    def now(self) -> float:
        """Seconds on the meeting's clock (monotonic, from when this runtime started)."""
        return time.monotonic() - self._t0

    def wall(self, at: float) -> float:
        """The Unix time of a moment on the meeting's clock."""
        return self._wall0 + at

    # --- the event loop of one meeting -----------------------------------------

    async def submit(
        self,
        event: Event,
        *,
        context: dict[str, Any] | None = None,
        actor: str | None = None,
        reply: Callable[[Decision], None] | None = None,
    ) -> Decision:
        """Decides one event and applies every effect before the next event is taken.

        ``reply`` hears the decision before its effects go out, so whoever asked learns
        the answer before its consequences (even when they end the asker's connection).
        """
        async with self._lock:
            event = event.model_copy(update={"at": self.now()})
            before = self._views()
            decision = decide(self.policy, self.state, event)
            self.policy, self.state = apply(self.policy, self.state, decision)
            try:
                await self._persist(decision, context or {})
            except Exception:  # the meeting goes on; a lost write is logged loudly
                log.exception("could not persist %s for meeting %s", event.type, self.meeting_id)
            if reply is not None:
                reply(decision)
            await self._outward(decision, event, context or {})
            self._send_view_changes(before)
            self._record(event, decision, actor)
            return decision

    async def _persist(self, decision: Decision, context: dict[str, Any]) -> None:
        at = time.time()
        for effect in decision.effects:
            match effect:
                case fx.BanIdentities(identities=keys):
                    await self._store.add_identities(self.meeting_id, "ban", keys, at=at)
                case fx.RequireWaitingRoom(identities=keys):
                    await self._store.add_identities(self.meeting_id, "must_wait", keys, at=at)
                case fx.SetLocked(locked=locked):
                    await self._store.set_locked(self.meeting_id, locked)
                case fx.SetPolicy():
                    document = context.get("policy_document", {})
                    self.revision = await self._store.replace_policy(
                        self.meeting_id,
                        json.dumps(document),
                        at=at,
                        by=str(context.get("by", "host")),
                    )
                    self.policy_document = document
                case fx.EndMeeting():
                    await self._store.end_meeting(self.meeting_id, at)
                    self.ended = True
                    if self._on_ended is not None:
                        self._on_ended(self.meeting_id)
                case _:
                    pass

    async def _outward(self, decision: Decision, event: Event, context: dict[str, Any]) -> None:
        for effect in decision.effects:
            match effect:
                case fx.AddParticipant(participant=person):
                    session = self.sessions.get(person.id)
                    if session is not None:
                        session.send(
                            wire.Welcome(
                                participant_id=person.id,
                                role=person.role,
                                device_token=session.device_token,
                            )
                        )
                        if person.admitted:
                            self._send_admitted(person.id, decision)
                        else:
                            session.send(wire.Waiting(message=decision.message))
                case fx.Admit(participant=pid):
                    self._send_admitted(pid, decision)
                case fx.SendToWaitingRoom(participant=pid):
                    await self._media.close_participant(pid)
                    self._cancel_timers(pid)
                    session = self.sessions.get(pid)
                    if session is not None:
                        session.send(
                            wire.BackToWaitingRoom(
                                reason=decision.reason.value,
                                rule=decision.rule,
                                message=decision.message,
                            )
                        )
                        session.send(wire.Waiting(message="Please wait: the host will let you in."))
                case fx.Dismiss(participant=pid, why=why):
                    await self._dismiss(pid, why, decision, resumable=not context.get("explicit"))
                case fx.OpenGate(participant=pid, source=source):
                    self._media.set_gate(pid, source, True)
                case fx.CloseGate(participant=pid, source=source):
                    self._media.set_gate(pid, source, False)
                case fx.StartTimer():
                    self._start_timer(effect)
                case fx.CancelTimer(kind=kind, participant=pid):
                    handle = self._timers.pop((kind, pid), None)
                    if handle is not None:
                        handle.cancel()
                case fx.Notify():
                    self._notify(effect)
                case fx.DeliverChat(sender=sender, to=to):
                    self._deliver_chat(sender, to, str(context.get("text", "")))
                case fx.SetPolicy():
                    for session in self._host_sessions():
                        session.send(
                            wire.PolicyMessage(revision=self.revision, policy=self.policy_document)
                        )
                case fx.EndMeeting():
                    self._cancel_all_timers()
                case fx.ShareFile(file_id=file_id):
                    # server/files/sharing.py puts the announcement in context.
                    shared = context.get("file_shared")
                    if isinstance(shared, wire.FileShared) and shared.file_id == file_id:
                        for session in self._admitted_sessions():
                            session.send(shared)
                case _:
                    pass

    # --- what people are told ---------------------------------------------------

    def _admitted_sessions(self) -> list[Session]:
        return [
            session
            for pid, session in self.sessions.items()
            if (person := self.state.get(pid)) is not None and person.admitted
        ]

    def _host_sessions(self) -> list[Session]:
        return [
            session
            for pid, session in self.sessions.items()
            if (person := self.state.get(pid)) is not None and person.admitted and person.is_host
        ]

    def _send_admitted(self, pid: str, decision: Decision) -> None:
        session = self.sessions.get(pid)
        person = self.state.get(pid)
        if session is None or person is None:
            return
        token = self._issue_resume_token(self.meeting_id, pid, person.role)
        session.send(
            wire.Admitted(
                meeting=meeting_info(self.meeting_id, self.policy, self.state, self.revision),
                you=self_state(self.policy, person, self.wall),
                roster=roster(self.state),
                resume_token=token,
                reason=decision.reason.value,
                message="You are in the meeting.",
            )
        )
        if person.is_host:
            session.send(wire.WaitingList(waiting=waiting_list(self.state, self.wall)))
            session.send(wire.PolicyMessage(revision=self.revision, policy=self.policy_document))

    async def _dismiss(
        self, pid: str, why: Any, decision: Decision, *, resumable: bool = True
    ) -> None:
        await self._media.close_participant(pid)
        self._cancel_timers(pid)
        session = self.sessions.pop(pid, None)
        if why == "left" and resumable:
            self.departed[pid] = time.time()
        else:
            self.departed.pop(pid, None)
        if session is None:
            return
        if why != "left":
            text = _DISMISSED_TEXT.get(why, decision.message)
            session.send(
                wire.Dismissed(
                    why=why, reason=decision.reason.value, rule=decision.rule, message=text
                )
            )
        session.close(wire.CLOSE_NORMAL, why)

    def _notify(self, notice: fx.Notify) -> None:
        if notice.topic in _VIEW_TOPICS:
            return
        message = wire.Notice(
            topic=notice.topic, text=notice.text, about=notice.participant, kind=notice.kind
        )
        if notice.audience == "participant":
            session = self.sessions.get(notice.participant or "")
            if session is not None:
                session.send(message)
            return
        targets = self._host_sessions() if notice.audience == "hosts" else self._admitted_sessions()
        _broadcast(targets, message)

    def _deliver_chat(self, sender: str, to: str | None, text: str) -> None:
        person = self.state.get(sender)
        if person is None:
            return
        message = wire.ChatMessage(
            sender=sender, sender_name=person.name, text=text, to=to, at=time.time()
        )
        if to is None:
            _broadcast(self._admitted_sessions(), message)
            return
        for pid in {sender, to}:
            session = self.sessions.get(pid)
            if session is not None:
                session.send(message)

    def _views(self) -> dict[str, Any]:
        return {
            "roster": roster(self.state),
            "waiting": waiting_list(self.state, self.wall),
            "meeting": meeting_info(self.meeting_id, self.policy, self.state, self.revision),
            "selves": {
                pid: self_state(self.policy, person, self.wall)
                for pid, person in self.state.participants.items()
            },
        }

    def _send_view_changes(self, before: dict[str, Any]) -> None:
        after = self._views()
        admitted = self._admitted_sessions()
        if after["roster"] != before["roster"]:
            _broadcast(admitted, wire.Roster(participants=after["roster"]))
        if after["waiting"] != before["waiting"]:
            _broadcast(self._host_sessions(), wire.WaitingList(waiting=after["waiting"]))
        if after["meeting"] != before["meeting"]:
            _broadcast(admitted, wire.Meeting(meeting=after["meeting"]))
        for pid, state in after["selves"].items():
            if before["selves"].get(pid) not in (None, state):
                session = self.sessions.get(pid)
                if session is not None:
                    session.send(wire.You(you=state))

    # --- timers -----------------------------------------------------------------

    def _start_timer(self, timer: fx.StartTimer) -> None:
        key = (timer.kind, timer.participant)
        previous = self._timers.pop(key, None)
        if previous is not None:
            previous.cancel()
        delay = max(0.0, timer.fire_at - self.now())
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, lambda: asyncio.ensure_future(self._fire(timer)))

    async def _fire(self, timer: fx.StartTimer) -> None:
        key = (timer.kind, timer.participant)
        self._timers.pop(key, None)
        try:
            await self.submit(timer_event(timer), actor="timer")
        except Exception:
            log.exception("timer %s for %s failed", timer.kind, timer.participant)

    def _cancel_timers(self, pid: str) -> None:
        for key in [k for k in self._timers if k[1] == pid]:
            self._timers.pop(key).cancel()

    def _cancel_all_timers(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    # --- the audit log ----------------------------------------------------------

    def _record(self, event: Event, decision: Decision, actor: str | None) -> None:
        body = event.model_dump(mode="json")
        who = getattr(event, "actor", None) or actor
        self._audit.append(
            AuditEntry(
                meeting_id=self.meeting_id,
                at=self.wall(event.at),
                decision_id=uuid.uuid4().hex,
                policy_revision=self.revision,
                event_type=event.type,
                event=body,
                allowed=decision.allowed,
                reason=decision.reason.value,
                rule=decision.rule,
                message=decision.message,
                actor=who if isinstance(who, str) else None,
                participant=getattr(event, "participant", None),
                effects=decision.to_json()["effects"],
            )
        )

    # --- sessions -----------------------------------------------------------------

    def attach(self, session: Session) -> None:
        self.sessions[session.participant_id] = session

    def detach(self, participant_id: str) -> None:
        self.sessions.pop(participant_id, None)

    def may_resume(self, participant_id: str) -> bool:
        left_at = self.departed.get(participant_id)
        return left_at is not None and time.time() - left_at <= RESUME_GRACE_SECONDS

    def with_identities(self, bans: frozenset[str], must_wait: frozenset[str]) -> None:
        self.state = replace(self.state, bans=bans, must_wait=must_wait)

    async def notify_hosts(self, topic: str, text: str) -> None:
        async with self._lock:
            for session in self._host_sessions():
                session.send(wire.Notice(topic=topic, text=text))

    async def shutdown(self) -> None:
        self._cancel_all_timers()
        for pid in list(self.sessions):
            await self._media.close_participant(pid)
            self.sessions.pop(pid).close(wire.CLOSE_NORMAL, "server stopping")
