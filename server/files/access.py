"""Who is calling the file endpoints, and whether they may download a file now.

The file token (``tokens.py``) only says who is asking. Every request is then
checked live, as the security bar's tests 28 and 38 ask: the token's session
is still this participant's connection to this meeting, and for a download
the participant is admitted now. A waiting participant, one of another
meeting, a removed one or one whose connection ended gets nothing.

A token that is not valid for this meeting, and a meeting that does not
exist or has ended, get the same 404 (security bar test 30: identical answers
for nonexistent and forbidden, so ids cannot be probed), and leave no audit
entry, since nobody is identified. Everything an identified participant
asks for is recorded in the meeting's audit log, allowed or not: whether they
may download is the engine's decision (``file_download_requested``), decided
in the meeting's Room like everything else; what the server finds after it
(no such file) is recorded here.
"""

from __future__ import annotations

import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Final

from meetwarden import protocol as wire
from meetwarden.policies.decision import BUILTIN_RULE
from meetwarden.policies.effects import Params
from meetwarden.policies.events import FileDownloadRequested

from ..i18n import Language, reason_text, say
from ..i18n.markers import N_
from ..runtime.audit import AuditWriter
from ..runtime.decided import Decided, new_decision_id, wire_params
from ..runtime.registry import Registry
from ..runtime.room import Room
from ..runtime.session import Session
from ..store import AuditEntry
from .tokens import FileTokens

__all__ = [
    "NOT_FOUND",
    "SERVER_RECORDED_EVENTS",
    "SESSION_ENDED",
    "Caller",
    "FileAccess",
    "FileRefusedError",
    "record_audit",
]

_MAX_MEETING_ID: Final = 64
SERVER_RECORDED_EVENTS: Final = frozenset({"file_downloaded", "file_upload_stopped"})
"""Audit event types the server records itself: no engine event, so nothing to replay."""


class FileRefusedError(Exception):
    """A refused file request, as problem+json: status, reason code, rule pointer, sentence.

    ``decided`` is true when the policy refused it (the engine, or the policy's
    size limit enforced while receiving); the body then carries the decision.
    ``message`` is the English sentence (a message id, filled in from ``params``); the
    reader's own language is ``text(language)``.
    ``stopped_reading`` is true when the server stopped reading a body whose end
    it cannot know (a chunked upload over the limit, a slow sender): the
    connection is then closed rather than drained.
    """

    def __init__(
        self,
        status: int,
        reason: str,
        rule: str,
        message: str,
        *,
        decided: bool = False,
        retry_after: int | None = None,
        stopped_reading: bool = False,
        decision_id: str | None = None,
        params: Params | None = None,
        by_engine: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.rule = status, reason, rule
        self.template, self.params = message, dict(params or {})
        self.by_engine = by_engine
        """The engine's decision: its sentence is the reason's, in the catalogs."""
        self.decided = decided
        self.retry_after = retry_after
        self.stopped_reading = stopped_reading
        self.decision_id = decision_id

    def text(self, language: Language) -> str:
        if self.by_engine:
            return reason_text(self.reason, self.params, language)
        return say(language, self.template, **self.params)

    @property
    def message(self) -> str:
        """The sentence in English (the audit log's)."""
        return self.text("en")

    @classmethod
    def from_decision(cls, decided: Decided) -> FileRefusedError:
        reason = decided.reason
        retry = 30 if reason == "file_scan_unavailable" else None
        return cls(
            _STATUS.get(reason, 403),
            reason,
            decided.rule,
            "",
            decided=True,
            retry_after=retry,
            decision_id=decided.decision_id,
            params=decided.decision.params,
            by_engine=True,
        )


# One HTTP status per reason code (STYLE: each error class maps to one status).
_STATUS: Final = {
    "file_too_large": 413,
    "file_type_forbidden": 415,
    "file_type_mismatch": 415,
    "file_type_not_allowed": 415,
    "file_infected": 422,
    "file_scan_unavailable": 503,
    "rule_error": 500,
}
NOT_FOUND: Final = FileRefusedError(
    404, "not_found", BUILTIN_RULE, N_("No such meeting or file, or this token does not open it.")
)

SESSION_ENDED: Final = FileRefusedError(
    401,
    "session_ended",
    BUILTIN_RULE,
    N_("Your connection to the meeting has ended; rejoin and ask for a new file token."),
)


@dataclass(frozen=True, slots=True)
class Caller:
    """A participant identified by a valid file token on its live session."""

    room: Room
    participant_id: str


def record_audit(
    audit: AuditWriter,
    room: Room,
    participant_id: str,
    event: dict[str, Any],
    *,
    allowed: bool,
    reason: str,
    rule: str,
    message: str,
    params: Params | None = None,
) -> str:
    """Append an entry for something the server decided itself (not an engine event);
    returns its decision id, for the answer the client gets. ``message`` is the English
    message id and ``params`` fill it in, so the log can be read in the host's language."""
    decision_id = new_decision_id()
    audit.append(
        AuditEntry(
            meeting_id=room.meeting_id,
            at=time.time(),
            decision_id=decision_id,
            policy_revision=room.revision,
            event_type=str(event["type"]),
            event={**event, "participant": participant_id, "at": round(room.now(), 3)},
            allowed=allowed,
            reason=reason,
            rule=rule,
            message=message,
            actor=None,
            participant=participant_id,
            effects=[],
            params=wire_params(params or {}),
        )
    )
    return decision_id


class FileAccess:
    """Issues file tokens on sessions and turns a presented token into a live caller."""

    def __init__(self, registry: Registry, tokens: FileTokens) -> None:
        self.registry = registry
        self.tokens = tokens
        # A random id per session, kept only while the session object lives: a
        # token names it, so a new connection (or a restart) ends older tokens.
        self._session_ids: weakref.WeakKeyDictionary[Session, str] = weakref.WeakKeyDictionary()

    def token_for(self, room: Room, session: Session, ref: int | None) -> wire.FileToken:
        """The ``file_token`` answer for a participant's request on its socket."""
        session_id = self._session_ids.get(session)
        if session_id is None:
            session_id = self._session_ids[session] = uuid.uuid4().hex
        token, expires_at = self.tokens.issue(room.meeting_id, session.participant_id, session_id)
        return wire.FileToken(
            ref=ref,
            token=token,
            expires_at=expires_at,
            upload_path=f"/api/meetings/{room.meeting_id}/files",
            max_bytes=room.policy.file_share.max_bytes,
        )

    async def caller(self, meeting_id: str, authorization: str | None) -> Caller:
        """The live participant a bearer file token names; FileRefusedError if none."""
        caller, live = await self.identify(meeting_id, authorization)
        if not live:
            raise SESSION_ENDED
        return caller

    async def identify(self, meeting_id: str, authorization: str | None) -> tuple[Caller, bool]:
        """Who a valid token names, and whether its session is still their connection.

        A token that is not valid for this live meeting raises the vague 404.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or len(meeting_id) > _MAX_MEETING_ID:
            raise NOT_FOUND
        claims = self.tokens.verify(token.strip(), meeting_id)
        if claims is None:
            raise NOT_FOUND
        room = await self.registry.room(meeting_id)
        if room is None:
            raise NOT_FOUND
        session = room.sessions.get(claims.participant_id)
        live = (
            session is not None
            and not session.closing
            and self._session_ids.get(session) == claims.session_id
        )
        return Caller(room, claims.participant_id), live

    async def may_download(self, caller: Caller, file_id: str) -> None:
        """The engine decides (and the audit log records) whether this person may download."""
        decided = await caller.room.submit(
            FileDownloadRequested(participant=caller.participant_id, file_id=file_id[:128])
        )
        if not decided.allowed:
            raise FileRefusedError.from_decision(decided)

    def record_download(
        self, caller: Caller, file_id: str, *, allowed: bool, reason: str, message: str
    ) -> str:
        return record_audit(
            self.registry.audit,
            caller.room,
            caller.participant_id,
            {"type": "file_downloaded", "file_id": file_id[:128]},  # in SERVER_RECORDED_EVENTS
            allowed=allowed,
            reason=reason,
            rule=BUILTIN_RULE,
            message=message,
        )
