"""The secrets of hosting: API keys, session cookies, set-up links, and their hashes.

Each is 32 random bytes from :mod:`secrets` (256 bits), so it is stored as a
fast keyed hash, HMAC-SHA256, never as itself. A slow password hash (argon2)
exists to make guessing a *person's* password expensive; a 256-bit random
value cannot be guessed at any speed, so slowness would buy nothing and would
make every API call cost tens of milliseconds of CPU (a denial-of-service
lever). GitHub's and PyPI's API tokens are stored the same way. The HMAC key
is a fixed label per kind of secret (domain separation: a session cookie's
hash can never match an API key's), not a server secret, so that the
``meetwarden keys`` command and every server sharing one database agree on it
without sharing a file.

An API key reads ``mwk_<id>_<secret>``: the id (public, shown by ``meetwarden
keys list``) finds the row, the secret is compared with the stored hash in
constant time. The prefix lets secret scanners recognise a leaked key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "API_KEY_PREFIX",
    "NewApiKey",
    "digest",
    "new_api_key",
    "new_secret",
    "parse_api_key",
    "secret_matches",
]

API_KEY_PREFIX: Final = "mwk"
SecretKind = Literal["api_key", "session", "setup_link"]
_API_KEY = re.compile(rf"{API_KEY_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})")


def new_secret() -> str:
    """32 random bytes, URL-safe base64 without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(kind: SecretKind, secret: str) -> str:
    """The stored form of a secret: HMAC-SHA256 keyed by its kind, hex."""
    label = f"meetwarden {kind} v1".encode()
    return hmac.new(label, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(kind: SecretKind, secret: str, stored: str) -> bool:
    """Whether a presented secret is the one whose digest is stored (constant time)."""
    return hmac.compare_digest(digest(kind, secret), stored)


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key_id: str
    key: str
    """Shown once, to whoever created it; only its digest is stored."""
    key_hash: str


def new_api_key() -> NewApiKey:
    key_id, secret = secrets.token_hex(6), new_secret()
    return NewApiKey(key_id, f"{API_KEY_PREFIX}_{key_id}_{secret}", digest("api_key", secret))


def parse_api_key(presented: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    match = _API_KEY.fullmatch(presented)  # fullmatch: "$" would let a newline through
    return (match.group(1), match.group(2)) if match else None
