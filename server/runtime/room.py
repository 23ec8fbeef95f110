"""A Room: one meeting, the unit everything lives in.

A Room owns its engine state, its sessions, its timers, its resume tokens and
its own media scope (publishers, subscribers, gates: nothing of another
meeting can be named from here). Every input (socket requests, REST calls,
file offers and downloads, media observations, timers, joins, resumes and
dropped connections) enters one inbox and is decided one at a time by the
Room's own task: ``decide``, ``apply``, then one exhaustive interpreter applies
the decision's effects (``interpreter.py``). The work taken from the inbox is
synchronous by construction, so nothing slow can hold the Room: store writes
go to ``StoreWrites``, audit entries to ``AuditWriter``, and peer connections
are released in the media scope's background. One stuck peer or a slow disk
cannot stall a meeting (Galène's group and LiveKit's room are the models).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from meetwarden import protocol as wire
from meetwarden.policies.apply import apply
from meetwarden.policies.effects import Params, StartTimer
from meetwarden.policies.engine import decide
from meetwarden.policies.events import (
    Disconnected,
    Event,
    JoinRequested,
    PolicyUpdateRequested,
    Resumed,
)
from meetwarden.policies.model import Policy
from meetwarden.policies.state import OWNER, MeetingState
from meetwarden.policies.timers import timer_event

from ..i18n import reason_text
from ..media.events import ConnectionFailed, Observation
from ..media.subscriber import SubscriberOffer
from ..metrics import count_decision
from ..store import AuditEntry, Store
from . import places, telling
from .audit import AuditWriter
from .decided import Decided, new_decision_id
from .interpreter import Interpreter, offer_message
from .media_seam import NoMedia, RoomMedia
from .observations import Observations, media_failure_params
from .session import Session
from .timers import Timers
from .writes import StoreWrites

__all__ = ["Room", "RoomClosedError"]

log = logging.getLogger("meetwarden.room")
T = TypeVar("T")
IssueResumeToken = Callable[[str, str], tuple[str, str]]
"""(meeting id, participant id) -> (token, token id)."""
IssueIceServers = Callable[[str], list[wire.IceServer]]
"""participant id -> the TURN servers, with a credential made for them now (server/turn.py)."""


class RoomClosedError(Exception):
    """The Room was released (ended or idle) while a request was on its way in."""


class Room:
    def __init__(
        self,
        *,
        meeting_id: str,
        policy: Policy,
        policy_document: dict[str, Any],
        revision: int,
        state: MeetingState,
        store: Store,
        writes: StoreWrites,
        audit: AuditWriter,
        issue_resume_token: IssueResumeToken,
        issue_ice_servers: IssueIceServers | None = None,
        media: Callable[[Room], RoomMedia] | None = None,
        on_ended: Callable[[Room], None] | None = None,
    ) -> None:
        self.meeting_id = meeting_id
        self.policy = policy
        self.policy_document = policy_document
        self.revision = revision
        self.state = state
        self.sessions: dict[str, Session] = {}
        self.ended = state.ended
        self.closed = False
        self.idle_since: float | None = time.monotonic()
        """Since when nobody is in the meeting (waiting, admitted or away); None if somebody is."""
        self.store = store
        self.writes = writes
        self.audit = audit
        self.on_ended = on_ended
        self.resume_tokens: dict[str, tuple[str, str]] = {}
        """The one current resume token of each person, and its id (single use, rotated)."""
        self._issue_resume_token = issue_resume_token
        self.ice_servers: IssueIceServers = issue_ice_servers or (lambda _: [])
        """TURN servers with a fresh credential, for someone being admitted (never before)."""
        self.withdrawn_invites: set[str] = set()
        """Invites revoked by a decision (a demotion) whose store write may not have landed."""
        self.timers = Timers(self.now, self._timer_fired)
        self.observations = Observations()
        self.policy_before_decision = policy
        self._save_due: asyncio.TimerHandle | None = None
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._inbox: asyncio.Queue[tuple[Callable[[], Any], asyncio.Future[Any] | None]] = (
            asyncio.Queue()
        )
        self._queued = 0
        """Work put in the inbox and not yet done (taken from the queue counts until done)."""
        self.media: RoomMedia = media(self) if media is not None else NoMedia()
        self._interpreter = Interpreter(self)
        self._task = asyncio.create_task(self._run(), name=f"room-{meeting_id[:8]}")

    # --- time ------------------------------------------------------------------

    def now(self) -> float:
        """Seconds on the meeting's clock (monotonic, from when this Room started)."""
        return time.monotonic() - self._t0

    def wall(self, at: float) -> float:
        """The Unix time of a moment on the meeting's clock."""
        return self._wall0 + at

    def at_of(self, wall: float) -> float:
        """The moment on the meeting's clock of a Unix time."""
        return wall - self._wall0

    # --- the inbox ----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            work, future = await self._inbox.get()
            try:
                result = work()
            except Exception as error:
                log.exception("meeting %s: work in the inbox failed", self.meeting_id[:8])
                if future is not None and not future.done():
                    future.set_exception(error)
            else:
                if future is not None and not future.done():
                    future.set_result(result)
            finally:
                self._queued -= 1

    async def _inside(self, work: Callable[[], T]) -> T:
        """Runs ``work`` in the Room's turn, after everything that entered before it.

        Work is synchronous, so when nothing is queued or in hand the turn is now:
        it is taken at once, in the caller's task, with the same order and the same
        one-at-a-time guarantee as the queue gives (and no extra trip through the
        event loop between a host's mute arriving and the gate closing).
        """
        if self.closed:
            raise RoomClosedError(self.meeting_id)
        if self._queued == 0:
            try:
                return work()
            except Exception:
                log.exception("meeting %s: work in the inbox failed", self.meeting_id[:8])
                raise
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued += 1
        self._inbox.put_nowait((work, future))
        return await future

    def post(self, work: Callable[[], object]) -> None:
        """Queues ``work`` without waiting for it (timers, media observations)."""
        if not self.closed:
            self._queued += 1
            self._inbox.put_nowait((work, None))

    # --- entering the inbox -------------------------------------------------------

    async def submit(
        self,
        event: Event,
        *,
        context: dict[str, Any] | None = None,
        actor: str | None = None,
        reply: Callable[[Decided], None] | None = None,
    ) -> Decided:
        """Decides one event and applies every effect before the next one is taken.

        ``reply`` hears the decision before its effects go out, so whoever asked
        learns the answer before its consequences (even when they end the asker's
        connection).
        """
        return await self._inside(lambda: self.decide_now(event, context, actor, reply))

    async def join(self, event: JoinRequested, session: Session) -> Decided:
        """Decides a join; the session becomes the person's connection if it is allowed."""
        return await self._inside(lambda: self.decide_now(event, None, None, None, session))

    async def resume(self, participant_id: str, token_id: str, session: Session) -> Decided | None:
        """Resumes the person a current resume token names, on ``session``; None when the
        token is not (or no longer) the person's current one. The token is used up."""

        def resume_now() -> Decided | None:
            current = self.resume_tokens.get(participant_id)
            if current is None or current[1] != token_id:
                return None
            if self.state.get(participant_id) is None:
                return None
            del self.resume_tokens[participant_id]  # single use: a new one comes with welcome
            old = self.sessions.get(participant_id)
            if old is not None and old is not session:
                old.close(wire.CLOSE_REPLACED, "resumed on another connection")
            event = Resumed(participant=participant_id)
            return self.decide_now(event, None, None, None, session)

        return await self._inside(resume_now)

    async def connection_lost(self, participant_id: str, session: Session) -> None:
        """The socket of ``session`` ended without a goodbye: the person may resume."""

        def lost() -> None:
            if self.sessions.get(participant_id) is not session:
                return  # replaced by a newer connection, or already gone
            del self.sessions[participant_id]
            person = self.state.get(participant_id)
            if person is not None and person.connected:
                self.decide_now(Disconnected(participant=participant_id), None, None, None)

        await self._inside(lost)

    def observe(self, observation: Observation) -> None:
        """From this Room's media scope: decided in turn, if it changes anything."""
        if isinstance(observation, ConnectionFailed):
            self._media_failed(observation)
            return
        if not self.observations.worth_deciding(observation, self.state):
            return

        def observed() -> None:
            event = self.observations.event_for(observation, self.state)
            if event is not None:
                self.decide_now(event, None, "media", None)

        self.post(observed)

    def _media_failed(self, failed: ConnectionFailed) -> None:
        """A connection of this person failed and was released: they hear why (no decision:
        the tracks it carried end with their own observations)."""
        log.info(
            "meeting %s: the %s connection of %s failed (%s)",
            self.meeting_id[:8],
            failed.direction,
            failed.participant_id,
            failed.reason,
        )
        session = self.sessions.get(failed.participant_id)
        if session is not None:
            params = media_failure_params(failed)
            message = reason_text("media_failed", params, session.language)
            session.send(wire.Error(code="media_failed", message=message, params=params))

    def offer(self, participant_id: str, offer: SubscriberOffer) -> None:
        """From this Room's media scope: a new subscriber offer (tracks came or went)."""
        session = self.sessions.get(participant_id)
        if session is not None:
            session.send(offer_message(offer))

    async def notify_hosts(self, topic: str, params: Params | None = None) -> None:
        await self._inside(lambda: telling.notify_hosts(self, topic, params))

    def resume_token_is_current(self, participant_id: str, token_id: str) -> bool:
        current = self.resume_tokens.get(participant_id)
        return current is not None and current[1] == token_id

    # --- one decision ---------------------------------------------------------------

    def decide_now(
        self,
        event: Event,
        context: dict[str, Any] | None,
        actor: str | None,
        reply: Callable[[Decided], None] | None,
        attach: Session | None = None,
    ) -> Decided:
        """Decide, apply, tell, record: only ever called from the Room's own turn."""
        event = event.model_copy(update={"at": self.now()})
        before = (self.policy, self.state, self.revision)  # immutable: viewed after the effects
        self.policy_before_decision = self.policy
        decision = decide(self.policy, self.state, event)
        self.policy, self.state = apply(self.policy, self.state, decision, at=event.at)
        decided = Decided(decision, new_decision_id())
        if attach is not None and decision.allowed:
            self.sessions[attach.participant_id] = attach
        if reply is not None:
            reply(decided)
        self._interpreter.apply(decided, context or {})
        telling.send_view_changes(self, before, decided)
        self._record(event, decided, actor)
        count_decision(event.type, decided.allowed, decided.reason)
        log.debug(
            "%s %s: %s (%s), decision %s",
            event.type,
            "allowed" if decided.allowed else "refused",
            decided.reason,
            decided.rule,
            decided.decision_id,
        )
        self.idle_since = None if self.state.participants else (self.idle_since or time.monotonic())
        if decision.effects and self._save_due is None:
            loop = asyncio.get_running_loop()
            self._save_due = loop.call_later(places.SAVE_DELAY, self._save_places)
        return decided

    def policy_not_stored(
        self,
        policy: Policy,
        document: dict[str, Any],
        revision: int,
        attempted: int,
        error: Exception,
    ) -> None:
        """In turn: a policy the engine allowed could not be stored. Unless a newer one
        came since, the previous policy is put back in force, decided like any update."""
        if self.revision != attempted or self.ended:
            return
        self.decide_now(
            PolicyUpdateRequested(actor=OWNER, policy=policy),
            {"policy_document": document, "restores_revision": revision},
            "server",
            None,
        )
        telling.notify_hosts(
            self, "policy_not_stored", {"error": type(error).__name__, "revision": revision}
        )

    # --- the places, saved and restored (``places.py``) ------------------------------

    def _save_places(self) -> None:
        """Between turns: hand the places as they are now to the store writer."""
        self._save_due = None
        if self.ended:
            return  # the end forgets them
        store, meeting_id, at = self.store, self.meeting_id, time.time()
        if not self.state.participants:
            self.writes.put(
                "forget a meeting's places", partial(store.forget_room_state, meeting_id)
            )
            return
        document = places.snapshot(self)
        self.writes.put(
            "save a meeting's places", partial(store.save_room_state, meeting_id, document, at=at)
        )

    def restore_places(self, document: str) -> None:
        """Right after loading, before anyone can reach the Room: the saved places come
        back, and whoever was connected when the server stopped is away now."""
        for pid in places.restore(self, document):
            self.decide_now(Disconnected(participant=pid), None, "server restart", None)

    def _timer_fired(self, plan: StartTimer) -> None:
        self.post(lambda: self.decide_now(timer_event(plan), None, "timer", None))

    def issue_resume_token(self, participant_id: str) -> str:
        token, token_id = self._issue_resume_token(self.meeting_id, participant_id)
        self.resume_tokens[participant_id] = (token, token_id)
        return token

    def _record(self, event: Event, decided: Decided, actor: str | None) -> None:
        who = getattr(event, "actor", None) or actor
        self.audit.append(
            AuditEntry(
                meeting_id=self.meeting_id,
                at=self.wall(event.at),
                decision_id=decided.decision_id,
                policy_revision=self.revision,
                event_type=event.type,
                event=_recorded(event),
                allowed=decided.allowed,
                reason=decided.reason,
                rule=decided.rule,
                message=decided.text("en"),
                actor=who if isinstance(who, str) else None,
                participant=getattr(event, "participant", None),
                effects=decided.decision.to_json()["effects"],
            )
        )

    # --- closing ----------------------------------------------------------------------

    def close_nowait(self, reason: str = "server stopping") -> None:
        """Releases the Room: timers, sessions, media; the inbox takes nothing more."""
        if self.closed:
            return
        self.closed = True
        if self._save_due is not None:
            self._save_due.cancel()
        self._save_places()  # the last word: a graceful stop keeps everyone's place
        self.timers.cancel_all()
        for session in list(self.sessions.values()):
            session.close(wire.CLOSE_NORMAL, reason)
        self.sessions.clear()
        self.media.close_nowait()
        self._task.cancel()
        while not self._inbox.empty():  # nobody waits forever on a released Room
            _, future = self._inbox.get_nowait()
            if future is not None and not future.done():
                future.set_exception(RoomClosedError(self.meeting_id))

    async def close(self, reason: str = "server stopping") -> None:
        self.close_nowait(reason)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _recorded(event: Event) -> dict[str, Any]:
    """The event as the audit log keeps it. A policy is kept as the host wrote it (its
    unset fields left out), so ``policy simulate`` reads it back as the same policy: the
    defaults filled in would be read as choices (``grant_minutes`` with ``host_only``)."""
    recorded = event.model_dump(mode="json")
    if isinstance(event, PolicyUpdateRequested):
        recorded["policy"] = event.policy.model_dump(mode="json", exclude_unset=True)
    return recorded
