"""The meetings this server holds: created, loaded as Rooms on first use, released when
ended or idle (a Room nobody is in loads again, from the store, when someone comes)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.errors import PolicyError, PolicyIssue
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.model import Policy
from meetwarden.policies.state import MeetingState

from ..addresses import NetworkSources
from ..auth import Passwords, Tokens
from ..budgets import FailureBudget
from ..logs import in_meeting
from ..media import MediaPlane
from ..store import FencedOutError, MeetingRecord, Store
from ..turn import TurnCredentials
from .attempts import JoinAttempts
from .audit import AuditWriter
from .room import Room
from .writes import StoreWrites

__all__ = [
    "CreatedMeeting",
    "Locate",
    "MeetingElsewhereError",
    "Registry",
    "password_issue",
]

log = logging.getLogger("meetwarden.registry")
HOST_TOKEN_SECONDS = 7 * 24 * 3600.0
API_LOOKUP_LIMIT_ENV = "MEETWARDEN_API_LOOKUP_LIMIT"  # failed lookups per client per 10 min
API_LOOKUP_LIMIT, API_LOOKUP_WINDOW = 500, 600.0
MIN_PASSWORD, MAX_PASSWORD = 6, 128
RESUME_TOKEN_SECONDS = 12 * 3600.0
"""A resume token's signature outlives any reconnect window; the Room decides if it is current."""
IDLE_SECONDS = 600.0
IDLE_ENV = "MEETWARDEN_ROOM_IDLE_SECONDS"  # how long a Room nobody is in stays loaded


def password_issue(policy: Policy, password: str | None) -> PolicyIssue | None:
    """What is wrong with the password a meeting is created with, if anything."""
    if password is not None and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return PolicyIssue(
            "/entry/password",
            "invalid_value",
            f"a meeting password has {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            "password_length",
            {"min_length": MIN_PASSWORD, "max_length": MAX_PASSWORD},
        )
    if policy.entry.password and not password:
        return PolicyIssue(
            "/entry/password",
            "contradiction",
            "this policy requires a password: give one when creating the meeting",
            "password_needed",
        )
    return None


class MeetingElsewhereError(Exception):
    """Another process holds the meeting: the caller sends the client there.

    ``base_url`` is the node that holds it (a redirect to it, or ``moved`` on a
    socket); None when it is another worker of this machine, reached at the same
    URL on a new connection (server/placement.py).
    """

    def __init__(self, meeting_id: str, base_url: str | None = None) -> None:
        super().__init__(f"meeting {meeting_id[:8]} is held by {base_url or 'another worker'}")
        self.meeting_id = meeting_id
        self.base_url = base_url


Locate = Callable[[str], Awaitable["str | None"]]
"""Where a meeting is held: None for this process (placing it here if it is nobody's),
else where to send its people (``MeetingElsewhereError.base_url``, "" for another
worker of this machine)."""


@dataclass(frozen=True, slots=True)
class CreatedMeeting:
    meeting_id: str
    host_token: str
    revision: int


class Registry:
    def __init__(
        self,
        *,
        store: Store,
        tokens: Tokens,
        passwords: Passwords,
        audit: AuditWriter,
        writes: StoreWrites,
        media: MediaPlane | None = None,
        turn: TurnCredentials | None = None,
        idle_seconds: float | None = None,
        locate: Locate | None = None,
        on_released: Callable[[str], Awaitable[None]] | None = None,
        holder_of: Callable[[str], int | None] | None = None,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.passwords = passwords
        self.audit = audit
        self.writes = writes
        self.media = media
        self.turn = turn
        self.locate = locate
        """Where a meeting is held (workers, nodes); None: here, all of them."""
        self.on_released = on_released
        self.holder_of = holder_of
        """The cluster claim generation under which this node holds a meeting it located
        here (None: alone): recorded when it loads, and its saves are fenced by it."""
        """Told each meeting id this process stops holding (ended, idle, closed)."""
        self.idle_seconds = idle_seconds or float(os.environ.get(IDLE_ENV) or IDLE_SECONDS)
        self.join_attempts = JoinAttempts()
        self.sources = NetworkSources()  # a join's network, as the engine sees it
        # Failed host-API lookups per client (meeting-id scans, forged tokens).
        self.api_lookups = FailureBudget(
            int(os.environ.get(API_LOOKUP_LIMIT_ENV) or API_LOOKUP_LIMIT), API_LOOKUP_WINDOW
        )
        self._rooms: dict[str, Room] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._loading = asyncio.Lock()
        self._ended_listeners: list[Callable[[str], Awaitable[None]]] = []
        self._ended_tasks: set[asyncio.Task[None]] = set()

    async def create_meeting(
        self, document: dict[str, Any], password: str | None
    ) -> CreatedMeeting:
        """Validates the policy (PolicyError with pointers if not valid) and stores the meeting."""
        policy = validate_policy(document)
        issue = password_issue(policy, password)
        if issue is not None:
            raise PolicyError([issue])
        meeting_id = secrets.token_urlsafe(16)  # 128 bits: not enumerable
        host_key = secrets.token_urlsafe(16)
        record = MeetingRecord(
            id=meeting_id,
            name=policy.name,
            created_at=time.time(),
            ended_at=None,
            locked=policy.entry.locked,
            password_hash=await self.passwords.hash(password) if password else None,
            policy_revision=1,
            policy_document=json.dumps(document),
            host_key=host_key,
        )
        await self.store.create_meeting(record)
        token, _ = self.tokens.issue("host", meeting_id, host_key, "host", HOST_TOKEN_SECONDS)
        return CreatedMeeting(meeting_id, token, 1)

    def _issue_resume_token(self, meeting_id: str, participant_id: str) -> tuple[str, str]:
        token, claims = self.tokens.issue(
            "resume", meeting_id, participant_id, "resume", RESUME_TOKEN_SECONDS
        )
        return token, claims.token_id

    def _issue_ice_servers(self, participant_id: str) -> list[wire.IceServer]:
        assert self.turn is not None
        return self.turn.ice_servers(participant_id, time.time())

    async def record(self, meeting_id: str) -> MeetingRecord | None:
        return await self.store.get_meeting(meeting_id)

    def held(self, meeting_id: str) -> Room | None:
        """The live meeting if it is in memory now (nothing is read or loaded)."""
        room = self._rooms.get(meeting_id)
        return self._handling(room) if room is not None and not room.closed else None

    async def room(self, meeting_id: str) -> Room | None:
        """The live meeting, loaded on first use; None if unknown or ended.

        Raises MeetingElsewhereError if another worker of this machine holds it.

        The caller's task handles this meeting from now on: its log lines, and those
        of the tasks it starts (the Room's own, when loaded here), carry the id.
        """
        room = self._rooms.get(meeting_id)
        if room is not None:
            return self._handling(room)
        if len(meeting_id) > 64:
            return None
        if self.locate is not None:
            where = await self.locate(meeting_id)
            if where is not None:
                raise MeetingElsewhereError(meeting_id, where or None)
        async with self._loading:
            room = self._rooms.get(meeting_id)
            if room is not None:
                return self._handling(room)
            record = await self.store.get_meeting(meeting_id)
            if record is None or record.ended_at is not None:
                return None
            holder = self.holder_of(meeting_id) if self.holder_of is not None else None
            if holder is not None:
                try:
                    await self.store.hold_meeting(meeting_id, holder)
                except FencedOutError:  # taken over meanwhile: reconnecting finds where
                    raise MeetingElsewhereError(meeting_id) from None
            in_meeting(meeting_id)
            document = json.loads(record.policy_document)
            policy = validate_policy(document)
            bans, must_wait = await self.store.identities(meeting_id)
            state = replace(
                MeetingState.initial(policy), locked=record.locked, bans=bans, must_wait=must_wait
            )
            plane = self.media
            room = Room(
                meeting_id=meeting_id,
                policy=policy,
                policy_document=document,
                revision=record.policy_revision,
                state=state,
                store=self.store,
                writes=self.writes,
                audit=self.audit,
                issue_resume_token=self._issue_resume_token,
                issue_ice_servers=self._issue_ice_servers if self.turn is not None else None,
                media=None
                if plane is None
                else lambda room: plane.room(
                    meeting_id, on_observation=room.observe, on_subscriber_offer=room.offer
                ),
                on_ended=self._meeting_ended,
                holder=holder,
                on_fenced=self._fenced,
            )
            saved = await self.store.room_state(meeting_id)
            if saved is not None:  # the server stopped while people were in it
                room.restore_places(saved)
            self._rooms[meeting_id] = room
            self._start_sweeping()
            return room

    @staticmethod
    def _handling(room: Room) -> Room | None:
        if room.ended:
            return None
        in_meeting(room.meeting_id)
        return room

    def when_ended(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Calls ``listener(meeting_id)`` after each meeting ends (files are deleted this way)."""
        self._ended_listeners.append(listener)

    def _meeting_ended(self, room: Room) -> None:
        """After the end is stored: release the Room, then tell the listeners."""
        if self._rooms.get(room.meeting_id) is room:
            del self._rooms[room.meeting_id]
        room.close_nowait("the meeting ended")
        self._released(room.meeting_id)
        for listener in self._ended_listeners:
            task = asyncio.create_task(self._run_listener(listener, room.meeting_id))
            self._ended_tasks.add(task)
            task.add_done_callback(self._ended_tasks.discard)

    @staticmethod
    async def _run_listener(listener: Callable[[str], Awaitable[None]], meeting_id: str) -> None:
        try:
            await listener(meeting_id)
        except Exception:  # one listener's failure never reaches the meeting
            log.exception("after meeting %s ended, %r failed", meeting_id[:8], listener)

    def live(self) -> list[Room]:
        return [room for room in self._rooms.values() if not room.ended]

    # --- releasing idle Rooms ---------------------------------------------------------

    def _start_sweeping(self) -> None:
        if self._sweeper is None:
            # Started while loading a meeting: an empty context, as it serves them all.
            self._sweeper = asyncio.create_task(
                self._sweep(), name="room-sweeper", context=contextvars.Context()
            )

    async def _sweep(self) -> None:
        """Releases Rooms nobody has been in for ``idle_seconds`` (they load again on use,
        with what the store keeps: policy, lock, bans; there is nobody to lose)."""
        while True:
            await asyncio.sleep(min(60.0, self.idle_seconds / 2))  # a periodic sweep
            self.release_idle()

    def release_idle(self) -> int:
        now = time.monotonic()
        idle = [
            room
            for room in self._rooms.values()
            if room.idle_since is not None
            and now - room.idle_since >= self.idle_seconds
            and not room.sessions
        ]
        for room in idle:
            del self._rooms[room.meeting_id]
            room.close_nowait("the meeting was idle")
            self._released(room.meeting_id)
        return len(idle)

    def _fenced(self, room: Room) -> None:
        """Another node took the meeting over while this one held it: its people reconnect
        (1012) and are sent there; nothing more is stored from here."""
        if self._rooms.get(room.meeting_id) is room:
            del self._rooms[room.meeting_id]
        room.close_nowait(
            "another node holds this meeting now: reconnect",
            code=wire.CLOSE_SERVICE_RESTART,
            keep_places=False,
        )

    def give_up_all(self, reason: str) -> int:
        """Closes every Room storing nothing more, its people told to reconnect (1012):
        this node may no longer hold them (server/cluster/member.py). How many."""
        rooms = list(self._rooms.values())
        self._rooms.clear()
        for room in rooms:
            room.close_nowait(reason, code=wire.CLOSE_SERVICE_RESTART, keep_places=False)
        return len(rooms)

    def _released(self, meeting_id: str) -> None:
        if self.on_released is None:
            return
        task = asyncio.create_task(self._run_listener(self.on_released, meeting_id))
        self._ended_tasks.add(task)
        task.add_done_callback(self._ended_tasks.discard)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for room in list(self._rooms.values()):
            await room.close()
            self._released(room.meeting_id)
        self._rooms.clear()
        await self.writes.flush()
        if self._ended_tasks:
            await asyncio.gather(*self._ended_tasks, return_exceptions=True)
