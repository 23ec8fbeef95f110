"""Joining: credentials checked by the server, then the Room decides.

The server turns what a client presents (host token, invite, password, device
token) into facts on a JoinRequested event: a role, whether the person is
invited, whether the password was right, their identities. Failures that
would tell a prober something (unknown meeting, missing or wrong password, a
token that does not open this meeting) all get the same answer, after the
same argon2 work; the audit log has the real cause.

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
from dataclasses import dataclass

from meetwarden import protocol as wire
from meetwarden.policies.events import JoinRequested, Role
from meetwarden.policies.names import name_skeleton, normalize_name
from meetwarden.policies.reasons import Reason

from .decided import new_decision_id
from .registry import Registry
from .room import Room, RoomClosedError
from .session import Session

__all__ = ["VAGUE_TEXT", "JoinResult", "join"]

DEVICE_TOKEN_SECONDS = 30 * 24 * 3600.0
VAGUE_TEXT = "Could not join: check the meeting link and the password."


def _vague(decision_id: str) -> wire.JoinRefused:
    """The same answer as for no meeting at all; the id is the audit log's (a random id
    outside, so a prober learns nothing from it)."""
    return wire.JoinRefused(
        reason="join_failed", rule="", message=VAGUE_TEXT, decision_id=decision_id
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
    valid: bool = True


def _too_many(retry_after: float) -> wire.JoinRefused:
    minutes = max(1, round(retry_after / 60))
    return wire.JoinRefused(
        reason="too_many_attempts",
        rule="",
        message=f"Too many attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        retry_after=round(retry_after, 1),
    )


async def _credentials(registry: Registry, room: Room, message: wire.Join) -> _Credentials:
    tokens, meeting_id = registry.tokens, room.meeting_id
    found = _Credentials()
    if message.host_token is not None:
        claims = tokens.verify(message.host_token, "host", meeting_id)
        record = await registry.record(meeting_id)
        if claims is None or record is None or claims.subject != record.host_key:
            return _Credentials(valid=False)
        found.role = "host"
    elif message.invite is not None:
        claims = tokens.verify(message.invite, "invite", meeting_id)
        invite = await registry.store.get_invite(claims.token_id) if claims else None
        withdrawn = claims is not None and claims.token_id in room.withdrawn_invites
        if (
            claims is None
            or invite is None
            or invite.revoked
            or withdrawn
            or invite.expires_at < time.time()
        ):
            return _Credentials(valid=False)
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
    session = Session(claims.subject, device_id=device_id, device_token=device_token)
    decided = await room.resume(claims.subject, claims.token_id, session)
    if decided is None or not decided.allowed:
        return None
    return JoinResult(room, session, None)


def _identities(device_id: str, credentials: _Credentials, name: str) -> tuple[str, ...]:
    keys = [f"device:{device_id}"]
    if credentials.invite_id:
        keys.append(f"invite:{credentials.invite_id}")
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
            return await _join(registry, meeting_id, message, client)
        except RoomClosedError:
            if attempt:  # released twice in a row while joining: say so plainly
                raise
    raise AssertionError("unreachable")


async def _join(registry: Registry, meeting_id: str, message: wire.Join, client: str) -> JoinResult:
    client_key, meeting_key = f"client:{client}", f"meeting:{meeting_id[:64]}"
    for limiter, key in (
        (registry.client_attempts, client_key),
        (registry.meeting_attempts, meeting_key),
    ):
        wait = limiter.retry_after(key)
        if wait is not None:
            return JoinResult(None, None, _too_many(wait))
    room = await registry.room(meeting_id)
    if room is None:
        if message.password is not None:
            await registry.passwords.verify(None, message.password)  # the same work as a real check
        registry.client_attempts.failed(client_key)
        return JoinResult(None, None, _vague(new_decision_id()))
    device = registry.tokens.verify(message.device_token or "", "device", meeting_id)
    device_id = device.subject if device else secrets.token_urlsafe(12)
    device_token = (
        message.device_token
        if device and message.device_token
        else registry.tokens.issue("device", meeting_id, device_id, "device", DEVICE_TOKEN_SECONDS)[
            0
        ]
    )
    if message.resume_token is not None:
        resumed = await _resume(registry, room, message, device_id, device_token)
        if resumed is not None:
            return resumed
    credentials = await _credentials(registry, room, message)
    if not credentials.valid:
        registry.client_attempts.failed(client_key)
        return JoinResult(None, None, _vague(new_decision_id()))
    password_ok: bool | None = None
    if message.password is not None and room.policy.entry.password:
        record = await registry.record(meeting_id)
        hashed = record.password_hash if record else None
        password_ok = await registry.passwords.verify(hashed, message.password)
    participant_id = f"p_{secrets.token_urlsafe(9)}"
    session = Session(participant_id, device_id=device_id, device_token=device_token)
    decided = await room.join(
        JoinRequested(
            participant=participant_id,
            name=message.name,
            role=credentials.role,
            invited=credentials.invited,
            password_ok=password_ok,
            identities=_identities(device_id, credentials, message.name),
        ),
        session,
    )
    if decided.allowed:
        return JoinResult(room, session, None)
    if decided.decision.reason in _PASSWORD_REASONS:
        registry.client_attempts.failed(client_key)
        if registry.meeting_attempts.failed(meeting_key):
            await room.notify_hosts(
                "password_attempts",
                "Many wrong passwords were tried; joining is paused for a while.",
            )
        return JoinResult(None, None, _vague(decided.decision_id))
    refusal = wire.JoinRefused(
        reason=decided.reason,
        rule=decided.rule,
        message=decided.message,
        decision_id=decided.decision_id,
    )
    return JoinResult(None, None, refusal)
