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
import os
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jwt.utils import base64url_encode
from pydantic_core import to_json

__all__ = [
    "AttemptLimiter",
    "Claims",
    "Passwords",
    "Reservation",
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


def _segment(value: dict[str, Any]) -> bytes:
    """A JWS segment as PyJWT writes it (``json.dumps(value, separators=(",", ":"))``):
    pydantic-core's encoder writes the same bytes for what a token holds (ASCII ids and
    names, integers) at a fifth of the cost (``test_tokens.py`` compares them)."""
    return base64url_encode(to_json(value))


class Tokens:
    """Issues and checks the meeting's signed tokens.

    A token is issued as PyJWT's ``jwt.encode`` issues it, byte for byte (the JWS
    compact serialization of RFC 7515 section 7.1: the header, the claims, and PyJWT's
    HS256 signature of both), but with the header encoded and the key prepared once:
    ``jwt.encode`` did both for every token, a twentieth of a join's CPU for the two a
    join is issued. Tokens are checked by ``jwt.decode``, as before."""

    _HEADER = _segment({"alg": _ALGORITHM, "typ": "JWT"})  # as jwt.encode sorts it

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._signer = jwt.PyJWS().get_algorithm_by_name(_ALGORITHM)
        self._key = self._signer.prepare_key(secret)

    def _encode(self, body: dict[str, Any]) -> str:
        signing_input = self._HEADER + b"." + _segment(body)
        signature = base64url_encode(self._signer.sign(signing_input, self._key))
        return (signing_input + b"." + signature).decode()

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
        return self._encode(body), claims

    def verify(self, token: str, kind: TokenKind, meeting_id: str) -> Claims | None:
        """The claims of a valid token of this kind for this meeting, else None."""
        if not token:  # none presented (most joins): no parse, no exception to unwind
            return None
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
        # Each verification holds 64 MiB for its duration: a crowd of them at once would
        # hold the memory of the whole crowd. They queue instead, a few at a time.
        self._running = asyncio.Semaphore(max(2, os.cpu_count() or 2))

    async def hash(self, password: str) -> str:
        async with self._running:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, candidate: str) -> bool:
        """Constant work whether or not there is a hash to check (an unknown meeting)."""
        target = password_hash or self._decoy
        try:
            async with self._running:
                ok = await asyncio.to_thread(self._hasher.verify, target, candidate)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None


class AttemptLimiter:
    """Attempts per key in a sliding window; past the limit, the key waits out the window.

    ``reserve`` checks the limit and counts the attempt in one step, before the
    slow check it guards (an argon2 verification), and ``release`` gives the
    attempt back once that check succeeded. Checking first and counting after
    the check let 32 concurrent guesses all pass a limit of 5: none of them had
    been counted when the others looked.
    """

    _PRUNE_ABOVE = 10_000  # keys; past this, expired keys are swept (at most once a window)

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._pruned_at = time.monotonic()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _prune(self, now: float) -> None:
        """Forgets keys whose attempts all expired (scanners leave one key per id they tried)."""
        if len(self._failures) <= self._PRUNE_ABOVE or now - self._pruned_at < self.window:
            return
        self._pruned_at = now
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
            del self._failures[key]

    def count(self, key: str, now: float | None = None) -> int:
        """Attempts of this key in the window (failed, or reserved and not yet released)."""
        now = time.monotonic() if now is None else now
        return len(self._recent(key, now))

    def retry_after(self, key: str, now: float | None = None) -> float | None:
        """Seconds until this key may try again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(key, now)
        if len(failures) < self.max_failures:
            return None
        return failures[0] + self.window - now

    def reserve(self, key: str, now: float | None = None) -> Reservation | None:
        """Counts an attempt now, or None (nothing counted) when the key is at its limit."""
        now = time.monotonic() if now is None else now
        self._prune(now)
        failures = self._recent(key, now)
        if len(failures) >= self.max_failures:
            return None
        failures.append(now)
        self._failures[key] = failures
        return Reservation(key, now)

    def release(self, reservation: Reservation) -> None:
        """Gives back a reserved attempt whose check succeeded (releasing twice is harmless)."""
        failures = self._failures.get(reservation.key)
        if failures is not None and reservation.at in failures:
            failures.remove(reservation.at)
            if not failures:
                del self._failures[reservation.key]

    def failed(self, key: str, now: float | None = None) -> bool:
        """Records a failure; True when that failure reached the limit."""
        now = time.monotonic() if now is None else now
        failures = self._recent(key, now)
        failures.append(now)
        self._failures[key] = failures
        return len(failures) == self.max_failures


@dataclass(frozen=True, slots=True)
class Reservation:
    """One counted attempt of a key, until it is released."""

    key: str
    at: float
