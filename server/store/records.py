"""What the store keeps, as frozen values: meetings, policy versions, invites, audit, files.

These are plain dataclasses so that the meeting runtime and the REST layer
never hold a database row or a session: a record is read, copied out and the
connection goes back to the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AuditEntry",
    "FileRecord",
    "FileState",
    "IdentityKind",
    "InviteRecord",
    "MeetingRecord",
    "PlacesSave",
    "PolicyVersion",
]

IdentityKind = Literal["ban", "must_wait"]
FileState = Literal["pending", "shared"]
"""A file is ``pending`` while the engine decides its offer, ``shared`` once it allowed it."""
"""A banned identity is refused; a ``must_wait`` one may not bypass the waiting room again."""


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    """A meeting as stored, with the policy document in force."""

    id: str
    name: str
    created_at: float
    ended_at: float | None
    locked: bool
    password_hash: str | None
    policy_revision: int
    policy_document: str
    """JSON text of the policy in force (revision ``policy_revision``)."""
    host_key: str
    """Random id that host tokens name; rotating it would invalidate them."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One revision of a meeting's policy; every revision is kept."""

    meeting_id: str
    revision: int
    document: str
    sha256: str
    """Hex SHA-256 of ``document`` encoded as UTF-8 (what audit entries can cite)."""
    created_at: float
    created_by: str


@dataclass(frozen=True, slots=True)
class InviteRecord:
    """An invite token's server-side record, named by the token's ``jti`` claim."""

    jti: str
    meeting_id: str
    role: str
    created_at: float
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One decision of the engine as the meeting runtime applied it.

    ``event`` is the event as JSON (secrets already erased by the caller) and
    ``effects`` the effects applied. ``message`` is the decision's sentence in English
    and ``params`` the parameters it was written from, with which the log is read in
    any language (``None`` in entries stored before the log kept them, and in those
    the server recorded with a sentence of its own). ``id`` is ``None`` until the
    entry is appended; the store assigns increasing ids.
    """

    meeting_id: str
    at: float
    decision_id: str
    policy_revision: int
    event_type: str
    event: dict[str, Any]
    allowed: bool
    reason: str
    rule: str
    message: str
    actor: str | None
    participant: str | None
    effects: list[dict[str, Any]]
    params: dict[str, Any] | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file a participant uploaded: stored under ``id`` (server-generated), never its name.

    ``name`` is the sanitised display name and ``content_type`` the type sniffed
    from the content; only a ``shared`` file is ever served.
    """

    id: str
    meeting_id: str
    participant: str
    sender_name: str
    name: str
    size: int
    content_type: str
    sha256: str
    created_at: float
    state: FileState = "pending"


@dataclass(frozen=True, slots=True)
class PlacesSave:
    """A live meeting's places to store (``document``), or to forget (``None``).

    ``holder``: the claim generation the writing node loaded the meeting under, or None
    for a node alone (``holders.py``)."""

    meeting_id: str
    document: str | None
    at: float
    holder: int | None = None
