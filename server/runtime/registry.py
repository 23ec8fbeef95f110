"""The meetings this server holds: created, loaded from the store on first use, ended."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from meetwarden.policies.errors import PolicyError, PolicyIssue
from meetwarden.policies.loading import validate_policy
from meetwarden.policies.state import MeetingState

from ..auth import AttemptLimiter, Passwords, Tokens
from ..store import MeetingRecord, Store
from .audit import AuditWriter
from .media_seam import MediaSeam, NoMedia
from .meeting import RESUME_TOKEN_SECONDS, MeetingRuntime

__all__ = ["CreatedMeeting", "Registry"]

log = logging.getLogger("meetwarden.registry")
HOST_TOKEN_SECONDS = 7 * 24 * 3600.0
API_LOOKUP_LIMIT_ENV = "MEETWARDEN_API_LOOKUP_LIMIT"  # failed lookups per client per 10 min
MIN_PASSWORD, MAX_PASSWORD = 6, 128


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
        media: MediaSeam | None = None,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.passwords = passwords
        self.audit = audit
        self.media: MediaSeam = media or NoMedia()
        self.client_attempts = AttemptLimiter(max_failures=5, window_seconds=300)
        self.meeting_attempts = AttemptLimiter(max_failures=30, window_seconds=600)
        # Failed host-API lookups per client (meeting-id scans, forged tokens).
        self.api_lookups = AttemptLimiter(
            max_failures=int(os.environ.get(API_LOOKUP_LIMIT_ENV, "500")), window_seconds=600
        )
        self._runtimes: dict[str, MeetingRuntime] = {}
        self._loading = asyncio.Lock()
        self._ended_listeners: list[Callable[[str], Awaitable[None]]] = []
        self._ended_tasks: set[asyncio.Task[None]] = set()

    async def create_meeting(
        self, document: dict[str, Any], password: str | None
    ) -> CreatedMeeting:
        """Validates the policy (PolicyError with pointers if not valid) and stores the meeting."""
        policy = validate_policy(document)
        if password is not None and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise PolicyError(
                [
                    PolicyIssue(
                        "/entry/password",
                        "invalid_value",
                        f"a meeting password has {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                    )
                ]
            )
        if policy.entry.password and not password:
            raise PolicyError(
                [
                    PolicyIssue(
                        "/entry/password",
                        "contradiction",
                        "this policy requires a password: give one when creating the meeting",
                    )
                ]
            )
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

    def issue_resume_token(self, meeting_id: str, participant_id: str, role: str) -> str:
        token, _ = self.tokens.issue(
            "resume", meeting_id, participant_id, role, RESUME_TOKEN_SECONDS
        )
        return token

    async def record(self, meeting_id: str) -> MeetingRecord | None:
        return await self.store.get_meeting(meeting_id)

    async def runtime(self, meeting_id: str) -> MeetingRuntime | None:
        """The live meeting, loaded on first use; None if unknown or ended."""
        runtime = self._runtimes.get(meeting_id)
        if runtime is not None:
            return None if runtime.ended else runtime
        if len(meeting_id) > 64:
            return None
        async with self._loading:
            runtime = self._runtimes.get(meeting_id)
            if runtime is not None:
                return None if runtime.ended else runtime
            record = await self.store.get_meeting(meeting_id)
            if record is None or record.ended_at is not None:
                return None
            document = json.loads(record.policy_document)
            policy = validate_policy(document)
            bans, must_wait = await self.store.identities(meeting_id)
            state = replace(
                MeetingState.initial(policy), locked=record.locked, bans=bans, must_wait=must_wait
            )
            runtime = MeetingRuntime(
                meeting_id=meeting_id,
                policy=policy,
                policy_document=document,
                revision=record.policy_revision,
                state=state,
                store=self.store,
                audit=self.audit,
                media=self.media,
                issue_resume_token=self.issue_resume_token,
                on_ended=self._meeting_ended,
            )
            self._runtimes[meeting_id] = runtime
            return runtime

    def when_ended(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Calls ``listener(meeting_id)`` after each meeting ends (files are deleted this way)."""
        self._ended_listeners.append(listener)

    def _meeting_ended(self, meeting_id: str) -> None:
        for listener in self._ended_listeners:
            task = asyncio.create_task(self._run_listener(listener, meeting_id))
            self._ended_tasks.add(task)
            task.add_done_callback(self._ended_tasks.discard)

    @staticmethod
    async def _run_listener(listener: Callable[[str], Awaitable[None]], meeting_id: str) -> None:
        try:
            await listener(meeting_id)
        except Exception:  # one listener's failure never reaches the meeting
            log.exception("after meeting %s ended, %r failed", meeting_id[:8], listener)

    def forget(self, meeting_id: str) -> None:
        self._runtimes.pop(meeting_id, None)

    def live(self) -> list[MeetingRuntime]:
        return [r for r in self._runtimes.values() if not r.ended]

    async def close(self) -> None:
        for runtime in list(self._runtimes.values()):
            await runtime.shutdown()
        self._runtimes.clear()
        if self._ended_tasks:
            await asyncio.gather(*self._ended_tasks, return_exceptions=True)
