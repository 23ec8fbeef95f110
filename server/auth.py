"""Tokens, passwords and attempt limits.

Tokens are JWTs signed with HS256, the algorithm pinned on both ends (Jitsi
CVE-2021-39215 accepted whatever algorithm a token named), each scoped to one
meeting (``aud``), one purpose (``typ``) and a role, with an expiry.
Passwords are argon2id (argon2-cffi, the reference implementation's binding)
with per-meeting and per-client attempt limits (Zoom's 2020 passcode brute
force had none). A wrong password and an unknown meeting cost the same and
answer the same.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "AttemptLimiter",
    "Claims",
    "Passwords",
    "TokenKind",
    "Tokens",
    "load_or_create_secret",
]

TokenKind = Literal["host", "invite", "device", "resume"]
_ALGORITHM = "HS256"
_ISSUER = "meetwarden"


def load_or_create_secret(data_dir: Path) -> bytes:
    """The signing key, made once per data directory (readable by its owner only)."""
    path = data_dir / "secret.key"
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) >= 32:
            return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(key.hex())
    temporary.chmod(0o600)
    temporary.replace(path)
    return key


@dataclass(frozen=True, slots=True)
class Claims:
    kind: TokenKind
    meeting_id: str
    subject: str
    role: str
    token_id: str
    expires_at: float


class Tokens:
    """Issues and checks the meeting's signed tokens."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(
        self, kind: TokenKind, meeting_id: str, subject: str, role: str, ttl_seconds: float
    ) -> tuple[str, Claims]:
        now = time.time()
        claims = Claims(
            kind=kind,
            meeting_id=meeting_id,
            subject=subject,
            role=role,
            token_id=secrets.token_urlsafe(12),
            expires_at=now + ttl_seconds,
        )
        body: dict[str, Any] = {
            "iss": _ISSUER,
            "aud": meeting_id,
            "sub": subject,
            "typ": kind,
            "role": role,
            "jti": claims.token_id,
            "iat": int(now),
            "exp": int(claims.expires_at),
        }
        return jwt.encode(body, self._secret, algorithm=_ALGORITHM), claims

    def verify(self, token: str, kind: TokenKind, meeting_id: str) -> Claims | None:
        """The claims of a valid token of this kind for this meeting, else None."""
        try:
            body = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=meeting_id,
                issuer=_ISSUER,
                options={"require": ["exp", "iat", "aud", "iss", "sub", "jti"]},
            )
        except jwt.PyJWTError:
            return None
        if body.get("typ") != kind or not isinstance(body.get("role"), str):
            return None
        return Claims(
            kind=kind,
            meeting_id=meeting_id,
            subject=str(body["sub"]),
            role=body["role"],
            token_id=str(body["jti"]),
            expires_at=float(body["exp"]),
        )


class Passwords:
    """argon2id hashing, off the event loop (each verify costs tens of milliseconds)."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, candidate: str) -> bool:
        """Constant work whether or not there is a hash to check (an unknown meeting)."""
        target = password_hash or self._decoy
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, candidate)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None


class AttemptLimiter:
    """Failures per key in a sliding window; past the limit, the key waits out the window."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, key: str, now: float | None = None) -> float | None:
        """Seconds until this key may try again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(key, now)
        if len(failures) < self.max_failures:
            return None
        return failures[0] + self.window - now

    def failed(self, key: str, now: float | None = None) -> bool:
        """Records a failure; True when that failure reached the limit."""
        now = time.monotonic() if now is None else now
        failures = self._recent(key, now)
        failures.append(now)
        self._failures[key] = failures
        return len(failures) == self.max_failures
