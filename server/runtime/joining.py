"""Joining: credentials checked by the server, then the Room decides.

The server turns what a client presents (host token, invite, password, device
token) into facts on a JoinRequested event: a role, whether the person is
invited, whether the password was right, their identities. Failures that
would tell a prober something (unknown meeting, missing or wrong password, a
token that does not open this meeting) all get the same answer, after the
same work (one store read, one argon2 verification); the audit log has the
real cause.

A valid host token or invite is checked first (HMAC, no argon2) and is never
subject to a lockout. Every other join to a meeting that needs a password, or
to an id the server does not hold, is a guess: it is counted before it is
checked and given back if it was right (``attempts.py``).

A resume token is not a credential for joining: it names a person the Room
still holds, and the Room (in its own turn) checks that it is that person's
current token, uses it up, and gives back the person's current place. A token
that is not current (used, rotated, the person removed or gone for longer
than ``entry.reconnect_seconds``) resumes nothing: the join goes through the
policy like anyone's. Nothing about a person's role or admission is ever
read from a token.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace

from meetwarden import protocol as wire
from meetwarden.policies.events import JoinRequested, Role
from meetwarden.policies.names import name_skeleton, normalize_name
from meetwarden.policies.reasons import Reason

from ..addresses import address_key
from ..i18n import Language, pick_language, reason_text
from ..metrics import count_join_refusal
from ..store import MeetingRecord
from .decided import Decided, new_decision_id
from .registry import Registry
from .room import Room, RoomClosedError
from .session import Session

__all__ = ["JoinResult", "join"]

DEVICE_TOKEN_SECONDS = 30 * 24 * 3600.0


def _vague(decision_id: str, language: Language) -> wire.JoinRefused:
    """The same answer as for no meeting at all; the id is the audit log's (a random id
    outside, so a prober learns nothing from it)."""
    return wire.JoinRefused(
        reason="join_failed",
        rule="",
        message=reason_text("join_failed", {}, language),
        decision_id=decision_id,
    )


_PASSWORD_REASONS = {Reason.PASSWORD_REQUIRED, Reason.WRONG_PASSWORD}


@dataclass
class JoinResult:
    room: Room | None
    session: Session | None
    refusal: wire.JoinRefused | None


@dataclass
class _Credentials:
    role: Role = "participant"
    invited: bool = False
    invite_id: str | None = None
    presented: bool = False
    """A host token or an invite was presented."""
    valid: bool = True


def _too_many(retry_after: float, language: Language) -> wire.JoinRefused:
    params: dict[str, str | int | list[str]] = {"minutes": max(1, round(retry_after / 60))}
    return wire.JoinRefused(
        reason="too_many_attempts",
        rule="",
        message=reason_text("too_many_attempts", params, language),
        params=params,
        retry_after=round(retry_after, 1),
    )


async def _credentials(
    registry: Registry, room: Room | None, record: MeetingRecord | None, message: wire.Join
) -> _Credentials:
    """What a host token or an invite opens: HMAC checks and a store read, no argon2."""
    tokens, meeting_id = registry.tokens, record.id if record else ""
    found = _Credentials(presented=message.host_token is not None or message.invite is not None)
    if message.host_token is not None:
        claims = tokens.verify(message.host_token, "host", meeting_id) if room else None
        if claims is None or record is None or claims.subject != record.host_key:
            return replace(found, valid=False)
        found.role = "host"
    elif message.invite is not None:
        claims = tokens.verify(message.invite, "invite", meeting_id) if room else None
        invite = await registry.store.get_invite(claims.token_id) if claims else None
        withdrawn = (
            claims is not None and room is not None and claims.token_id in room.withdrawn_invites
        )
        if (
            claims is None
            or invite is None
            or invite.revoked
            or withdrawn
            or invite.expires_at < time.time()
        ):
            return replace(found, valid=False)
        found.role = "cohost" if claims.role == "cohost" else "participant"
        found.invited, found.invite_id = True, claims.token_id
    return found


async def _resume(
    registry: Registry, room: Room, message: wire.Join, device_id: str, device_token: str
) -> JoinResult | None:
    """The person's place, resumed, if the token is their current one; else None."""
    claims = registry.tokens.verify(message.resume_token or "", "resume", room.meeting_id)
    if claims is None:
        return None
    session = Session(
        claims.subject,
        device_id=device_id,
        device_token=device_token,
        language=pick_language(message.language),
    )
    decided = await room.resume(claims.subject, claims.token_id, session)
    if decided is None or not decided.allowed:
        return None
    return JoinResult(room, session, None)


def _identities(device_id: str, name: str) -> tuple[str, ...]:
    """What the server can tell of a person; the engine adds the invite (``invite`` below)."""
    keys = [f"device:{device_id}"]
    try:
        skeleton = name_skeleton(normalize_name(name))
    except Exception:  # a name the checks refuse anyway
        skeleton = ""
    if skeleton:
        keys.append(f"name:{skeleton}")
    return tuple(keys)


async def join(registry: Registry, meeting_id: str, message: wire.Join, client: str) -> JoinResult:
    """Checks what the client presents and asks the Room; the session is attached if in."""
    for attempt in range(2):
        try:
            result = await _join(registry, meeting_id, message, client)
        except RoomClosedError:
            if attempt:  # released twice in a row while joining: say so plainly
                raise
        else:
            if result.refusal is not None:
                count_join_refusal(result.refusal.reason)
            return result
    raise AssertionError("unreachable")


def _answer_tells(room: Room, message: wire.Join) -> bool:
    """True for a plain join (nothing presented) to a meeting in memory with no password:
    its answer (welcome, waiting, a refusal with its reason) says the meeting is real, so
    the store read that evens out the time of every other path would hide nothing."""
    presented = (message.host_token, message.invite, message.password, message.resume_token)
    return not room.policy.entry.password and presented == (None,) * 4


async def _join(registry: Registry, meeting_id: str, message: wire.Join, client: str) -> JoinResult:
    # One store read on every path where the answer hides whether an id is real: a
    # meeting the server holds and an id it does not cost the same, so neither the
    # answer nor its time tells. A plain join to a meeting without a password is told
    # so by its answer; it skips the read, the largest part of a join's work.
    held = registry.held(meeting_id)
    if held is not None and _answer_tells(held, message):
        device_id, device_token = _device(registry, meeting_id, message)
        return await _Joining(
            registry, message, client, device_id, device_token, _Credentials()
        ).ask(held)
    record = await registry.record(meeting_id) if len(meeting_id) <= 64 else None
    room = await registry.room(meeting_id) if record is not None else None
    device_id, device_token = _device(registry, meeting_id, message)
    if room is not None and message.resume_token is not None:
        resumed = await _resume(registry, room, message, device_id, device_token)
        if resumed is not None:
            return resumed
    credentials = await _credentials(registry, room, record, message)
    joining = _Joining(registry, message, client, device_id, device_token, credentials)
    nothing_to_guess = credentials.presented or (room and not room.policy.entry.password)
    if room is not None and credentials.valid and nothing_to_guess:
        # A host token or an invite that opens the meeting is checked before any budget:
        # strangers who guess never lock the host or invited people out. A meeting
        # without a password has nothing to guess.
        return await joining.ask(room)
    # Anything else is a guess (a password, a meeting id, a token): counted before it is
    # checked, and checked with the same argon2 work whether or not the meeting exists.
    attempt = await registry.join_attempts.start(address_key(client), meeting_id)
    language = pick_language(message.language)
    if isinstance(attempt, float):
        return JoinResult(None, None, _too_many(attempt, language))
    with attempt:  # given back if the server fails before it is settled
        hashed = record.password_hash if record is not None and credentials.valid else None
        password_ok = await registry.passwords.verify(hashed, message.password or "")
        if room is None or not credentials.valid:
            attempt.failed()
            return JoinResult(None, None, _vague(new_decision_id(), language))
        result, decided = await joining.decide(
            room, password_ok=None if message.password is None else password_ok
        )
        if decided.decision.reason not in _PASSWORD_REASONS:
            attempt.succeeded()
            return result
        spent = attempt.failed()
    if spent:
        await room.notify_hosts("password_attempts")
    return JoinResult(None, None, _vague(decided.decision_id, language))


def _device(registry: Registry, meeting_id: str, message: wire.Join) -> tuple[str, str]:
    """The device id and token: the ones presented if valid for this meeting, else new."""
    device = registry.tokens.verify(message.device_token or "", "device", meeting_id)
    if device and message.device_token:
        return device.subject, message.device_token
    device_id = device.subject if device else secrets.token_urlsafe(12)
    issued = registry.tokens.issue("device", meeting_id, device_id, "device", DEVICE_TOKEN_SECONDS)
    return device_id, issued[0]


@dataclass
class _Joining:
    """A join whose credentials are checked, on its way to the Room."""

    registry: Registry
    message: wire.Join
    client: str
    device_id: str
    device_token: str
    credentials: _Credentials

    async def ask(self, room: Room) -> JoinResult:
        """A join with nothing to guess. The policy may have asked for a password since
        it was read: that refusal is as vague as any other."""
        result, decided = await self.decide(room, password_ok=None)
        if decided.decision.reason in _PASSWORD_REASONS:
            return JoinResult(None, None, _vague(decided.decision_id, self.language))
        return result

    @property
    def language(self) -> Language:
        return pick_language(self.message.language)

    async def decide(self, room: Room, password_ok: bool | None) -> tuple[JoinResult, Decided]:
        """The Room's decision on this join, and what the client is answered."""
        message, credentials = self.message, self.credentials
        participant_id = f"p_{secrets.token_urlsafe(9)}"
        session = Session(
            participant_id,
            device_id=self.device_id,
            device_token=self.device_token,
            language=self.language,
        )
        decided = await room.join(
            JoinRequested(
                participant=participant_id,
                name=message.name,
                role=credentials.role,
                invited=credentials.invited,
                invite=credentials.invite_id,
                password_ok=password_ok,
                identities=_identities(self.device_id, message.name),
                source=self.registry.sources.of(self.client),
            ),
            session,
        )
        if decided.allowed:
            return JoinResult(room, session, None), decided
        refusal = wire.JoinRefused(
            reason=decided.reason,
            rule=decided.rule,
            message=decided.text(self.language),
            params=decided.params,
            decision_id=decided.decision_id,
        )
        return JoinResult(None, None, refusal), decided
