"""Which TURN server a bot's media connections use.

The server hands every admitted participant its TURN servers with a credential
made for them (``admitted.ice_servers``; docs/operating.md, "TURN"), and the
SDK uses them by itself: a bot behind a firewall that blocks UDP still gets its
media through. A browser gathers candidates through every TURN URL it is given;
aiortc through one per connection (aiortc 1.16, ``rtcicetransport.connection_kwargs``
keeps the first ``turn:``/``turns:`` URL), so ``IceOptions.turn`` says which.

    client.ice = IceOptions(turn="tcp")                   # TURN over TCP (port 3478, say)
    client.ice = IceOptions(turn="tls", relay_only=True)  # only through TURN over TLS

``turns:`` is checked against the system's certificate authorities (Python's
default SSL context, so ``SSL_CERT_FILE`` names another bundle): aiortc takes
no certificate of its own for it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from meetwarden import protocol as wire

from .arguments import choices_of
from .errors import InvalidArgumentError

__all__ = ["IceOptions", "TurnChoice"]

log = logging.getLogger("meetwarden.client")

TurnChoice = Literal["first", "udp", "tcp", "tls", "none"]
_CHOICES = choices_of(TurnChoice)
# What aioice 0.13 parses (its TURN_REGEX): no IPv6 literal, transport udp or tcp.
_USABLE = re.compile(
    r"(?P<scheme>turns?):[^?:\[\]]+(?::\d+)?(?:\?transport=(?P<transport>udp|tcp))?"
)


def _transport_of(url: str) -> str | None:
    """``udp``, ``tcp`` or ``tls``, for a URL aiortc can use; None for one it cannot."""
    match = _USABLE.fullmatch(url)
    if match is None:
        return None
    if match["scheme"] == "turns":
        return "tls" if match["transport"] in (None, "tcp") else None
    return match["transport"] or "udp"


@dataclass(frozen=True, slots=True)
class IceOptions:
    """How this bot's media connections use the TURN servers the server gave it."""

    turn: TurnChoice = "first"
    """``first``: the first URL the server lists that aiortc can use; ``udp``, ``tcp`` or
    ``tls``: the first over that transport (``turns:`` is TLS); ``none``: no TURN."""
    relay_only: bool = False
    """Send media only through TURN (ICE transport policy ``relay``, as a browser's
    ``iceTransportPolicy: 'relay'``): the server never sees this bot's own address."""

    def __post_init__(self) -> None:
        if self.turn not in _CHOICES:
            raise InvalidArgumentError("turn", self.turn, "not a TURN choice", _CHOICES)
        if self.relay_only and self.turn == "none":
            raise InvalidArgumentError(
                "relay_only", True, 'media only through TURN needs a TURN server: not turn="none"'
            )

    def choose(self, servers: list[wire.IceServer]) -> wire.IceServer | None:
        """The one TURN server (one URL, with its credential) to hand aiortc, if any."""
        if self.turn == "none":
            return None
        offered = [(url, server) for server in servers for url in server.urls]
        for url, server in offered:
            transport = _transport_of(url)
            if transport is not None and self.turn in ("first", transport):
                return wire.IceServer(
                    urls=[url], username=server.username, credential=server.credential
                )
        if offered:
            log.warning(
                "the server's TURN URLs (%s) include none %s that aiortc can use: "
                "connecting without TURN",
                ", ".join(url for url, _ in offered),
                "" if self.turn == "first" else f"over {self.turn}",
            )
        return None
