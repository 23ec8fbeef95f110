"""File tokens: who is calling the file endpoints, bound to one live WebSocket session.

Participants have no HTTP credential of their own; their identity lives in
the WebSocket session. A participant asks for a file token on its socket
(``file_token``) and presents it as ``Authorization: Bearer`` to upload and
download. The token says who is asking, never what they may do: every
request also checks, live, that this participant is admitted in this meeting
on that same session (``access.FileAccess.caller``).

- A JWT signed with HS256, the algorithm pinned when verifying (Jitsi
  CVE-2021-39215 accepted whatever algorithm a token named; security bar
  test 27), with ``exp``, ``iat``, ``aud`` (the meeting), ``sub`` (the
  participant) and ``typ`` = ``file`` all required.
- Its key is derived from the server's signing secret (HMAC-SHA256 with a
  fixed label), so no token of another kind (host, invite, resume) can pass
  as a file token, even if a ``typ`` check were forgotten.
- ``sid`` names the session it was issued on: a random value the server
  keeps beside that session only. A reconnect, a removal or a restart ends
  the session and with it every token issued on it (LiveKit's remove guide:
  a removed participant's token must not keep working; security bar test 28).
- Short-lived (10 minutes): it is checked when a request starts, so a long
  upload may outlive it; a client asks for a fresh one before each request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Final

import jwt

__all__ = ["FILE_TOKEN_SECONDS", "FileClaims", "FileTokens"]

FILE_TOKEN_SECONDS: Final = 600.0
_ALGORITHM: Final = "HS256"
_ISSUER: Final = "meetwarden"
_KIND: Final = "file"
_KEY_LABEL: Final = b"meetwarden file tokens v1"


@dataclass(frozen=True, slots=True)
class FileClaims:
    """A verified file token: the meeting, the participant, the session it was issued on."""

    meeting_id: str
    participant_id: str
    session_id: str
    expires_at: float


class FileTokens:
    """Issues and verifies file tokens with a key derived from the server's secret."""

    def __init__(self, secret: bytes, ttl_seconds: float = FILE_TOKEN_SECONDS) -> None:
        self._key = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def issue(self, meeting_id: str, participant_id: str, session_id: str) -> tuple[str, float]:
        """A new token and the Unix time it expires."""
        now = time.time()
        expires_at = now + self.ttl_seconds
        body = {
            "iss": _ISSUER,
            "aud": meeting_id,
            "sub": participant_id,
            "typ": _KIND,
            "sid": session_id,
            "jti": secrets.token_urlsafe(12),
            "iat": int(now),
            "exp": int(expires_at),
        }
        return jwt.encode(body, self._key, algorithm=_ALGORITHM), float(int(expires_at))

    def verify(self, token: str, meeting_id: str) -> FileClaims | None:
        """The claims of a valid, unexpired file token for this meeting; else None."""
        if not token or len(token) > 4096:
            return None
        try:
            body = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=meeting_id,
                issuer=_ISSUER,
                options={"require": ["exp", "iat", "aud", "iss", "sub", "jti"]},
            )
        except jwt.PyJWTError:
            return None
        session_id = body.get("sid")
        if body.get("typ") != _KIND or not isinstance(session_id, str) or not session_id:
            return None
        return FileClaims(
            meeting_id=meeting_id,
            participant_id=str(body["sub"]),
            session_id=session_id,
            expires_at=float(body["exp"]),
        )
