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

The Room is its parts: the inbox and its turn (``inbox.py``), the ways in
(``entrances.py``), and what the audit log keeps of each decision
(``audit_entries.py``). This module holds what a Room owns, its clock, one
decision (``decide_now``), the places saved and restored, and closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.apply import apply, touched_by
from meetwarden.policies.effects import Params
from meetwarden.policies.engine import decide
from meetwarden.policies.events import Disconnected, Event, PolicyUpdateRequested
from meetwarden.policies.model import Policy
from meetwarden.policies.state import OWNER, MeetingState

from ..metrics import count_decision
from ..store import FencedOutError, PlacesSave, Store
from ..store.holders import fenced_error
from . import places, telling
from .audit import AuditWriter
from .audit_entries import RecordedDecision
from .decided import Decided, new_decision_id
from .entrances import RoomEntrances
from .inbox import RoomClosedError
from .interpreter import Interpreter
from .media_seam import NoMedia, RoomMedia
from .observations import Observations
from .roster_text import RosterText
from .session import Session
from .timers import Timers
from .view_batches import ViewBatches
from .writes import StoreWrites

__all__ = ["Room", "RoomClosedError"]

log = logging.getLogger("meetwarden.room")
IssueResumeToken = Callable[[str, str], tuple[str, str]]
"""(meeting id, participant id) -> (token, token id)."""
IssueIceServers = Callable[[str], list[wire.IceServer]]
"""participant id -> the TURN servers, with a credential made for them now (server/turn.py)."""


class Room(RoomEntrances):
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
        holder: int | None = None,
        on_fenced: Callable[[Room], None] | None = None,
    ) -> None:
        self.meeting_id = meeting_id
        self.holder = holder
        """The cluster claim generation this node holds the meeting under (None: alone):
        the store refuses its saves once another node has taken the meeting over, and
        ``on_fenced`` is told (store/holders.py)."""
        self.on_fenced = on_fenced
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
        self._saved_places: places.Saved = {}
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._inbox: asyncio.Queue[tuple[Callable[[], Any], asyncio.Future[Any] | None]] = (
            asyncio.Queue()
        )
        self._queued = 0
        """Work put in the inbox and not yet done (taken from the queue counts until done)."""
        self.roster_text = RosterText()
        """The roster as JSON text, re-encoded only for the people who changed."""
        self.view_batches = ViewBatches(self)
        """Roster and waiting-list changes, gathered and sent a few times a second."""
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

    # --- told to the hosts, in turn (``telling.py``) --------------------------------

    async def notify_hosts(self, topic: str, params: Params | None = None) -> None:
        await self._inside(lambda: telling.notify_hosts(self, topic, params))

    # --- resume tokens: one current token per person, single use --------------------

    def resume_token_is_current(self, participant_id: str, token_id: str) -> bool:
        current = self.resume_tokens.get(participant_id)
        return current is not None and current[1] == token_id

    def issue_resume_token(self, participant_id: str) -> str:
        token, token_id = self._issue_resume_token(self.meeting_id, participant_id)
        self.resume_tokens[participant_id] = (token, token_id)
        return token

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
        self.policy, self.state = applied = apply(self.policy, self.state, decision, at=event.at)
        decided = Decided(decision, new_decision_id())
        if attach is not None and decision.allowed:
            self.sessions[attach.participant_id] = attach
        if reply is not None:
            reply(decided)
        self._interpreter.apply(decided, context or {})
        # Who changed is looked for among the people the effects name, unless the state
        # moved on meanwhile (a decision made while this one's effects went out).
        among = touched_by(decision) if applied[1] is self.state else None
        telling.send_view_changes(self, before, decided, among)
        self._record(event, decided, actor)
        count_decision(event.type, decided.allowed, decided.reason)
        if log.isEnabledFor(logging.DEBUG):  # its arguments are not made for nothing
            log.debug(
                "%s %s: %s (%s), decision %s",
                event.type,
                "allowed" if decided.allowed else "refused",
                decided.reason,
                decided.rule,
                decided.decision_id,
            )
        self.idle_since = None if self.state.participants else (self.idle_since or time.monotonic())
        if decision.effects:
            self.writes.save_soon(self, self._save_places)
        return decided

    def _record(self, event: Event, decided: Decided, actor: str | None) -> None:
        at = self.wall(event.at)
        self.audit.append(
            RecordedDecision(self.meeting_id, at, self.revision, event, decided, actor)
        )

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
        if self.ended:
            return  # the end forgets them
        document = places.snapshot(self, self._saved_places) if self.state.participants else None
        save = PlacesSave(self.meeting_id, document, time.time(), self.holder)
        self.writes.put_places(self.store, save, partial(self._places_fenced_out, save))

    def fenced(self, write: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """``write`` (given ``holder=self.holder``), after which a refusal for another node's
        newer claim closes the Room."""

        async def fenced() -> None:
            try:
                await write()
            except FencedOutError as error:
                self._fenced_out(error)

        return fenced

    def _places_fenced_out(self, save: PlacesSave) -> None:
        self._fenced_out(fenced_error(save.meeting_id, save.holder or 0))

    def _fenced_out(self, error: FencedOutError) -> None:
        log.warning("%s", error)
        if self.on_fenced is not None and not self.closed:
            self.on_fenced(self)

    def restore_places(self, document: str) -> None:
        """Right after loading, before anyone can reach the Room: the saved places come
        back, and whoever was connected when the server stopped is away now."""
        for pid in places.restore(self, document):
            self.decide_now(Disconnected(participant=pid), None, "server restart", None)

    # --- closing ----------------------------------------------------------------------

    def close_nowait(
        self,
        reason: str = "server stopping",
        *,
        code: int = wire.CLOSE_NORMAL,
        keep_places: bool = True,
    ) -> None:
        """Releases the Room: timers, sessions, media; the inbox takes nothing more.

        ``keep_places=False`` stores nothing more: another node may hold the meeting
        already (a node cut off from the cluster gives its meetings up this way).
        """
        if self.closed:
            return
        self.closed = True
        self.writes.not_soon(self)
        if keep_places:
            self._save_places()  # the last word: a graceful stop keeps everyone's place
        self.timers.cancel_all()
        self.view_batches.close()
        for session in list(self.sessions.values()):
            session.close(code, reason)
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
