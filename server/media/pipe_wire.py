"""The bytes of a media pipe between two nodes, and the offer that sets one up.

A pipe carries a room's published tracks from the node they are published on
(A) to a node whose viewers watch them (B), as mediasoup's pipe transports carry
a producer's RTP between routers: each packet verbatim, in the publisher's own
numbering, as plain RTP over UDP on the network between nodes
(https://mediasoup.org/documentation/v3/mediasoup/api/#PipeTransport).

Every datagram, either way, is one envelope::

    kind (1) | epoch (1) | counter (8) | body | tag (16)

``kind`` is media (an RTP packet), a retransmission (an RTP packet A resent on
B's NACK) or control (JSON). ``epoch`` numbers the runs of one stream: A starts a
new one whenever its gate opens or closes (``pipe_sender``), so that B can tell a
packet of a run that ended from one of the run it forwards now. ``counter``
grows by one per datagram sent on the pipe; B keeps a window of those it has seen
and drops a replay, as SRTP does with its index (RFC 3711 3.3.2). ``tag`` is
HMAC-SHA256 (RFC 2104) over everything before it, with the pipe's 32-byte secret,
truncated to 128 bits (RFC 2104 5).

Why an HMAC, not SRTP: the pipe is on the network between nodes, where only
authenticity matters (the viewers' own legs are SRTP); the secret is given by the
node that opens the pipe, in the same message as its address (``PipeOffer``),
so there is no key exchange to run; and the same envelope carries the pipe's
control messages. A datagram is taken only from the expected peer address and
with a valid tag and a fresh counter (``PipeGuard``); anything else is counted
and dropped.
"""

from __future__ import annotations

import hmac
import json
import secrets
import struct
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONTROL",
    "MEDIA",
    "RETRANSMISSION",
    "TAG_SIZE",
    "PipeGuard",
    "PipeOffer",
    "newer",
    "read_control",
    "seal",
    "seal_control",
]

MEDIA = 1
RETRANSMISSION = 2
CONTROL = 3
TAG_SIZE = 16
_ENVELOPE = struct.Struct("!BBQ")
HEADER_SIZE = _ENVELOPE.size
_WINDOW = 1024  # datagrams a late one may trail the newest by, and still be taken
_MASK = (1 << _WINDOW) - 1
MAX_CONTROL = 4000  # bytes of JSON in one control datagram


def newer(epoch: int, than: int) -> bool:
    """Whether 8-bit epoch ``epoch`` comes after ``than`` (serial arithmetic, RFC 1982)."""
    return 0 < (epoch - than) & 0xFF < 0x80


@dataclass(frozen=True, slots=True)
class PipeOffer:
    """Where a node receives a pipe, and the secret the sender must sign with.

    Made by ``MediaRoom.open_pipe`` on the receiving node; carried to the sending
    node (by the signalling between nodes, as ``to_json``) and given to ``pipe_to``.
    """

    pipe_id: str
    host: str
    port: int
    secret: str
    """64 hex digits: the 32-byte HMAC key of this pipe."""

    @staticmethod
    def new(pipe_id: str, host: str, port: int) -> PipeOffer:
        return PipeOffer(pipe_id, host, port, secrets.token_hex(32))

    @property
    def key(self) -> bytes:
        return bytes.fromhex(self.secret)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def to_json(self) -> dict[str, Any]:
        return {
            "pipe_id": self.pipe_id,
            "host": self.host,
            "port": self.port,
            "secret": self.secret,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> PipeOffer:
        """Raises ValueError on anything but a well-formed offer."""
        pipe_id, host, port, secret = data["pipe_id"], data["host"], data["port"], data["secret"]
        if not (isinstance(pipe_id, str) and isinstance(host, str) and isinstance(secret, str)):
            raise ValueError("pipe offer fields must be strings")
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError("pipe offer port out of range")
        if len(bytes.fromhex(secret)) != 32:
            raise ValueError("pipe secret must be 32 bytes")
        return PipeOffer(pipe_id, host, port, secret)


def seal(key: bytes, kind: int, epoch: int, counter: int, body: bytes) -> bytes:
    """One datagram: the envelope around ``body``, tagged."""
    message = _ENVELOPE.pack(kind, epoch, counter) + body
    return message + hmac.digest(key, message, "sha256")[:TAG_SIZE]


def seal_control(key: bytes, counter: int, message: dict[str, Any]) -> bytes:
    return seal(key, CONTROL, 0, counter, json.dumps(message, separators=(",", ":")).encode())


class PipeGuard:
    """What one end of a pipe takes: its peer's datagrams, authentic and not replayed.

    ``peer`` is the (host, port) datagrams must come from; a port of 0 takes the
    port of the first authentic datagram from that host and keeps it ("latching",
    as media servers do behind NATs, but only after the tag is checked)."""

    def __init__(self, key: bytes, peer: tuple[str, int]) -> None:
        self._key = key
        self.peer = peer
        self._highest = -1
        self._seen = 0  # bit i: counter (highest - i) was taken
        self.taken = 0
        self.foreign = 0
        """Datagrams from another address than the peer's."""
        self.forged = 0
        """Datagrams from the peer's address whose tag did not verify (or too short)."""
        self.replayed = 0
        """Authentic datagrams whose counter was already taken, or too old to tell."""

    def open(self, data: bytes, source: tuple[str, int]) -> tuple[int, int, bytes] | None:
        """(kind, epoch, body) of an acceptable datagram; None (counted) for anything else."""
        host, port = source[0], source[1]
        if host != self.peer[0] or (self.peer[1] and port != self.peer[1]):
            self.foreign += 1
            return None
        if len(data) < HEADER_SIZE + TAG_SIZE:
            self.forged += 1
            return None
        message = data[:-TAG_SIZE]
        tag = hmac.digest(self._key, message, "sha256")[:TAG_SIZE]
        if not hmac.compare_digest(tag, data[-TAG_SIZE:]):
            self.forged += 1
            return None
        kind, epoch, counter = _ENVELOPE.unpack_from(message)
        if not self._fresh(counter):
            self.replayed += 1
            return None
        if not self.peer[1]:
            self.peer = (host, port)
        self.taken += 1
        return kind, epoch, message[HEADER_SIZE:]

    def _fresh(self, counter: int) -> bool:
        behind = self._highest - counter
        if behind < 0:
            shift = -behind
            self._seen = ((self._seen << shift) | 1) & _MASK if shift < _WINDOW else 1
            self._highest = counter
            return True
        if behind >= _WINDOW or self._seen >> behind & 1:
            return False
        self._seen |= 1 << behind
        return True


def read_control(body: bytes) -> dict[str, Any] | None:
    """A control message's JSON object, or None if it is not one."""
    if len(body) > MAX_CONTROL:
        return None
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the limit
        return None
    return message if isinstance(message, dict) else None
