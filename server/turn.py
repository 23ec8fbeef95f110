"""TURN relay servers for admitted participants, with credentials made for each of them.

meetwarden runs no TURN server: it hands clients the operator's (coturn, say)
with time-limited credentials, per "A REST API For Access To TURN Services"
(draft-uberti-behave-turn-rest-00, section 2.2), the scheme coturn implements
as ``use-auth-secret`` with ``static-auth-secret``:

    username = "<expiry unix time>:<participant id>"
    password = base64(HMAC-SHA1(shared secret, username))

The TURN server recomputes the password from the username and its own copy of
the secret, so nothing is stored or sent between the two servers, and it
refuses a username whose time has passed. (RFC 7635 is the other way to give
out TURN access, OAuth tokens; this is not that.) A participant gets these
only once admitted (``admitted.ice_servers``): nobody waiting or refused can
get relay credentials out of a join attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass

from pydantic import SecretStr

from meetwarden import protocol as wire

__all__ = ["DEFAULT_TTL", "TurnCredentials", "check_turn_url", "rest_api_password"]

DEFAULT_TTL = 86_400
"""Seconds a credential is valid: one day, the draft's recommendation and Jitsi's default.
coturn checks the expiry when an allocation is made; an allocation made in time goes on
being refreshed past it (coturn's userdb.c get_user_key runs once per TURN session)."""

_URL = re.compile(
    r"(?P<scheme>turns?):(?P<host>\[[^\]]*\]|[^:?\[\]]*)(?::(?P<port>[^?]*))?(?:\?(?P<query>.*))?"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")  # IPv4 matches too
_EXAMPLES = "turn:turn.example.org:3478?transport=udp, or turns:turn.example.org:5349?transport=tcp"


def check_turn_url(url: str) -> str:
    """``url`` if it is a TURN URL browsers and aiortc take (RFC 7065), else a ValueError
    that says what is wrong and what would be right."""
    if url.startswith(("stun:", "stuns:")):
        raise ValueError(
            f"{url!r} is a STUN server; give TURN servers ({_EXAMPLES}): a TURN server "
            "answers STUN too"
        )
    match = _URL.fullmatch(url)
    if match is None:
        raise ValueError(f"{url!r} is not a TURN URL: write it as {_EXAMPLES}")
    host, port, query = match["host"], match["port"], match["query"]
    if host.startswith("//"):
        raise ValueError(f"{url!r}: a TURN URL has no // (write {url.replace('://', ':', 1)})")
    if not _valid_host(host):
        raise ValueError(f"{url!r}: {host!r} is not a host name or an IP address")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"{url!r}: the port {port!r} is not a number from 1 to 65535")
    if query is not None and query not in ("transport=udp", "transport=tcp"):
        raise ValueError(
            f"{url!r}: the only parameter a TURN URL takes is ?transport=udp or ?transport=tcp"
        )
    if match["scheme"] == "turns" and query == "transport=udp":
        raise ValueError(
            f"{url!r}: turns: is TURN over TLS, which runs on TCP: write ?transport=tcp "
            "(browsers do not speak DTLS to a TURN server)"
        )
    return url


def _valid_host(host: str) -> bool:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    return _HOST_NAME.fullmatch(host) is not None


def rest_api_password(secret: str, username: str) -> str:
    """base64(HMAC-SHA1(secret, username)): the password a TURN server with this shared
    secret expects for ``username`` (draft-uberti-behave-turn-rest-00, section 2.2)."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class TurnCredentials:
    """The TURN servers of this meetwarden and the secret it shares with them."""

    urls: tuple[str, ...]
    secret: SecretStr
    ttl: int = DEFAULT_TTL

    def ice_servers(self, participant_id: str, now: float) -> list[wire.IceServer]:
        """The servers, with a credential for this participant that expires ``ttl`` seconds
        after ``now`` (Unix time)."""
        username = f"{int(now) + self.ttl}:{participant_id}"
        password = rest_api_password(self.secret.get_secret_value(), username)
        return [wire.IceServer(urls=list(self.urls), username=username, credential=password)]
