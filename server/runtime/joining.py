"""Joining: credentials checked by the server, then the engine decides.

The server turns what a client presents (host token, invite, resume token,
password, device token) into facts on a JoinRequested event: a role, whether
the person is invited, whether the password was right, their identities.
Failures that would tell a prober something (unknown meeting, missing or
wrong password, a token that does not open this meeting) all get the same
answer, after the same argon2 work; the audit log has the real cause.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from meetwarden import protocol as wire
from meetwarden.policies.events import JoinRequested, Left, Role
from meetwarden.policies.names import name_skeleton, normalize_name
from meetwarden.policies.reasons import Reason

from .meeting import MeetingRuntime
from .registry import Registry
from .session import Session

__all__ = ["JoinResult", "join"]

DEVICE_TOKEN_SECONDS = 30 * 24 * 3600.0
VAGUE = wire.JoinRefused(
    reason="join_failed",
    rule="",
    message="Could not join: check the meeting link and the password.",
)
_PASSWORD_REASONS = {Reason.PASSWORD_REQUIRED, Reason.WRONG_PASSWORD}


@dataclass
class JoinResult:
    runtime: MeetingRuntime | None
    session: Session | None
    refusal: wire.JoinRefused | None


@dataclass
class _Credentials:
    role: Role = "participant"
    invited: bool = False
    invite_id: str | None = None
    readmit: bool = False
    resumed_id: str | None = None
    valid: bool = True


def _too_many(retry_after: float) -> wire.JoinRefused:
    minutes = max(1, round(retry_after / 60))
    return wire.JoinRefused(
        reason="too_many_attempts",
        rule="",
        message=f"Too many attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        retry_after=round(retry_after, 1),
    )


async def _credentials(
    registry: Registry, runtime: MeetingRuntime, message: wire.Join
) -> _Credentials:
    tokens, meeting_id = registry.tokens, runtime.meeting_id
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
        if claims is None or invite is None or invite.revoked or invite.expires_at < time.time():
            return _Credentials(valid=False)
        found.role = "cohost" if claims.role == "cohost" else "participant"
        found.invited, found.invite_id = True, claims.token_id
    if message.resume_token is not None:
        claims = tokens.verify(message.resume_token, "resume", meeting_id)
        if claims is not None:
            present = runtime.state.get(claims.subject)
            if present is not None or runtime.may_resume(claims.subject):
                found.readmit, found.resumed_id = True, claims.subject
                if found.role == "participant" and claims.role in ("host", "cohost"):
                    found.role = "host" if claims.role == "host" else "cohost"
    return found


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
    """Checks what the client presents and asks the engine; the session is attached if in."""
    client_key, meeting_key = f"client:{client}", f"meeting:{meeting_id[:64]}"
    for limiter, key in (
        (registry.client_attempts, client_key),
        (registry.meeting_attempts, meeting_key),
    ):
        wait = limiter.retry_after(key)
        if wait is not None:
            return JoinResult(None, None, _too_many(wait))
    runtime = await registry.runtime(meeting_id)
    if runtime is None:
        if message.password is not None:
            await registry.passwords.verify(None, message.password)  # the same work as a real check
        registry.client_attempts.failed(client_key)
        return JoinResult(None, None, VAGUE)
    credentials = await _credentials(registry, runtime, message)
    if not credentials.valid:
        registry.client_attempts.failed(client_key)
        return JoinResult(None, None, VAGUE)
    password_ok: bool | None = None
    if message.password is not None and runtime.policy.entry.password:
        record = await registry.record(meeting_id)
        hashed = record.password_hash if record else None
        password_ok = await registry.passwords.verify(hashed, message.password)
    device = registry.tokens.verify(message.device_token or "", "device", meeting_id)
    device_id = device.subject if device else secrets.token_urlsafe(12)
    device_token = (
        message.device_token
        if device and message.device_token
        else registry.tokens.issue("device", meeting_id, device_id, "device", DEVICE_TOKEN_SECONDS)[
            0
        ]
    )
    participant_id = credentials.resumed_id or f"p_{secrets.token_urlsafe(9)}"
    stale = runtime.sessions.get(participant_id)
    if stale is not None:  # the same person reconnecting before the old socket was noticed dead
        stale.close(wire.CLOSE_REPLACED, "reconnected elsewhere")
    if runtime.state.get(participant_id) is not None:
        await runtime.submit(Left(participant=participant_id))
    session = Session(participant_id, device_id=device_id, device_token=device_token)
    runtime.attach(session)
    decision = await runtime.submit(
        JoinRequested(
            participant=participant_id,
            name=message.name,
            role=credentials.role,
            invited=credentials.invited,
            password_ok=password_ok,
            identities=_identities(device_id, credentials, message.name),
            readmit=credentials.readmit,
        )
    )
    if decision.allowed:
        return JoinResult(runtime, session, None)
    runtime.detach(participant_id)
    if decision.reason in _PASSWORD_REASONS:
        registry.client_attempts.failed(client_key)
        if registry.meeting_attempts.failed(meeting_key):
            await runtime.notify_hosts(
                "password_attempts",
                "Many wrong passwords were tried; joining is paused for a while.",
            )
        return JoinResult(None, None, VAGUE)
    refusal = wire.JoinRefused(
        reason=decision.reason.value, rule=decision.rule, message=decision.message
    )
    return JoinResult(None, None, refusal)
