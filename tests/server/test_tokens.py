"""The tokens the server issues are plain HS256 JWTs, whatever issues them.

``Tokens.issue`` writes the compact serialization itself (the header encoded and the
key prepared once); what it writes must be what PyJWT writes for the same claims, so
that any JWT library reads it, and only the server's key and algorithm verify it.
"""

from __future__ import annotations

from dataclasses import replace

import jwt

from meetwarden.server.auth import Tokens

KEY = b"k" * 32
MEETING = "zW9EV-fBlitmn6pPVaH_zQ"  # a meeting id: URL-safe base64


def test_an_issued_token_is_what_pyjwt_writes_for_the_same_claims() -> None:
    tokens = Tokens(KEY)
    for kind, role in (("resume", "participant"), ("device", "device"), ("host", "host")):
        token, claims = tokens.issue(kind, MEETING, "p_ana", role, 3600)
        body = jwt.decode(token, KEY, algorithms=["HS256"], audience=MEETING)
        assert (body["typ"], body["sub"], body["jti"]) == (kind, "p_ana", claims.token_id)
        assert jwt.encode(body, KEY, algorithm="HS256") == token
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
        # The token carries whole seconds (RFC 7519 NumericDate as PyJWT writes it).
        assert tokens.verify(token, kind, MEETING) == replace(claims, expires_at=body["exp"])


def test_a_token_is_refused_by_another_key_another_meeting_and_another_kind() -> None:
    token, _ = Tokens(KEY).issue("resume", MEETING, "p_ana", "participant", 3600)
    assert Tokens(b"x" * 32).verify(token, "resume", MEETING) is None
    assert Tokens(KEY).verify(token, "resume", "n" * 22) is None
    assert Tokens(KEY).verify(token, "host", MEETING) is None
    unsigned = jwt.encode(jwt.decode(token, options={"verify_signature": False}), None, "none")
    assert Tokens(KEY).verify(unsigned, "resume", MEETING) is None
