"""Fuzz targets for datagrams that reach a media port: STUN, and everything DTLS takes.

``stun``: aioice's ``StunProtocol.datagram_received`` as the guards leave it
(``stun.parse_message``, then the connection's request handling); the promise
is that nothing raises, whatever the datagram. Inputs include requests that
pass authentication (built with the harness connection's own ICE password), so
the handling behind it is reached too.

``datagram``: aiortc's receive step on a connected DTLS transport as the
guards leave it (``RTCDtlsTransport._recv_next``: DTLS records, SRTP/SRTCP
unprotect, RTP/RTCP parsing and routing), on a publisher's transport (media
intercepted by the seam) and on a subscriber's (aiortc's own handlers). The
promise is that a datagram is handled or dropped and the transport stays
connected. A datagram can be protected with the transport's SRTP keys first,
so that fuzzed RTP and RTCP get past the authentication tag.
"""

from __future__ import annotations

import binascii
import hmac
import struct
from collections.abc import Sequence
from typing import Any

import aioice.ice
import aioice.stun
from aiortc.rtcdtlstransport import State
from hypothesis import strategies as st

from meetwarden.server.media.aiortc_seam import install_transport_guards

from .harness import CrashError, Harness, Target, frames, joined, mutated_bytes
from .packets import rtcp_packets, rtp_packets
from .wiring import FakeIce, Pipeline

__all__ = ["DATAGRAM", "STUN", "stun_message"]

LOCAL_UFRAG = "fuzz"
LOCAL_PASSWORD = "fuzzpasswordfuzzpassword"
_COOKIE = 0x2112A442
_KNOWN_ATTRIBUTES = [t for t, *_ in aioice.stun.ATTRIBUTES] + [0x0000, 0x7FFF, 0xFFFF]


def stun_message(
    message_type: int,
    transaction_id: bytes,
    attributes: Sequence[tuple[int, bytes]],
    *,
    key: bytes | None = None,
    fingerprint: bool = True,
) -> bytes:
    """A STUN message from raw attributes, with a correct MESSAGE-INTEGRITY (RFC 8489
    14.5) for ``key`` and a correct FINGERPRINT (14.7) if asked."""
    body = b""
    for kind, value in attributes:
        body += struct.pack("!HH", kind, len(value)) + value + bytes(-len(value) % 4)

    def header(length: int) -> bytes:
        return struct.pack("!HHI12s", message_type, length, _COOKIE, transaction_id)

    if key is not None:
        mac = hmac.new(key, header(len(body) + 24) + body, "sha1").digest()
        body += struct.pack("!HH", 0x0008, 20) + mac
    if fingerprint:
        crc = binascii.crc32(header(len(body) + 8) + body) ^ 0x5354554E
        body += struct.pack("!HHI", 0x8028, 4, crc)
    return header(len(body)) + body


def _stun_strategy(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    attribute = st.tuples(
        st.one_of(st.sampled_from(_KNOWN_ATTRIBUTES), st.integers(0, 0xFFFF)),
        st.one_of(st.binary(max_size=12), st.binary(max_size=300)),
    )
    username = st.tuples(
        st.just(0x0006),
        st.one_of(st.just(f"{LOCAL_UFRAG}:peer".encode()), st.binary(max_size=20)),
    )
    built = st.builds(
        lambda kind, tid, attrs, user, signed, fingerprinted: stun_message(
            kind,
            tid,
            [user, *attrs],
            key=LOCAL_PASSWORD.encode() if signed else None,
            fingerprint=fingerprinted,
        ),
        st.one_of(
            st.sampled_from([0x0001, 0x0101, 0x0111, 0x0011, 0x0003]), st.integers(0, 0x3FFF)
        ),
        st.binary(min_size=12, max_size=12),
        st.lists(attribute, max_size=6),
        username,
        st.booleans(),
        st.booleans(),
    )
    return st.one_of(
        st.sampled_from(list(seeds)), mutated_bytes(seeds), built, st.binary(max_size=200)
    )


class _Stun(Harness[bytes]):
    """Two ICE connections (controlled, controlling) with fixed credentials, no sockets."""

    def __init__(self) -> None:
        install_transport_guards()
        self.connections = []
        self.protocols = []
        for controlling in (False, True):
            connection = aioice.ice.Connection(
                ice_controlling=controlling,
                local_username=LOCAL_UFRAG,
                local_password=LOCAL_PASSWORD,
            )
            connection.remote_username = "peer"
            connection.remote_password = "peerpasswordpeerpassword"
            protocol = aioice.ice.StunProtocol(connection)
            protocol.local_candidate = aioice.Candidate(
                "1", 1, "udp", 2130706431, "127.0.0.1", 9, "host"
            )
            protocol.connection_made(_Udp())
            self.connections.append(connection)
            self.protocols.append(protocol)

    async def run(self, data: bytes) -> None:
        for protocol, connection in zip(self.protocols, self.connections, strict=True):
            try:
                protocol.datagram_received(data, ("127.0.0.1", 40000))
            except Exception as error:
                raise CrashError(f"datagram_received raised {error!r}") from error
            connection._early_checks.clear()
            while not connection._queue.empty():
                connection._queue.get_nowait()


class _Udp:
    """A datagram transport that sends nowhere."""

    def __init__(self) -> None:
        self.sent = 0

    def sendto(self, data: bytes, addr: Any = None) -> None:
        self.sent += 1

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        return None


async def _stun() -> Harness[bytes]:
    return _Stun()


class _Datagram(Harness[bytes]):
    """Each input: datagrams in sequence (``harness.frames``) to a fresh pipeline's
    publisher-side (first byte even) or subscriber-side (odd) transport. Bit 1 of the
    first byte asks for the rest to be SRTP-protected first."""

    async def run(self, data: bytes) -> None:
        pipeline = Pipeline()
        try:
            for element in frames(data) or [b""]:
                flags, payload = (element[0], element[1:]) if element else (0, b"")
                side = pipeline.subscriber_side if flags & 1 else pipeline.publisher_side
                datagram = side.protect(payload) if flags & 2 else payload
                dtls = side.dtls
                ice: FakeIce = dtls.transport
                ice.incoming.append(datagram)
                try:
                    await dtls._recv_next()
                except Exception as error:
                    raise CrashError(f"the receive step raised {error!r}") from error
                if dtls._state is not State.CONNECTED:
                    raise CrashError(f"the transport is {dtls.state} after a datagram")
        finally:
            pipeline.close()


async def _datagram() -> Harness[bytes]:
    return _Datagram()


def _datagram_strategy(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    element = st.tuples(
        st.integers(0, 3),
        st.one_of(rtp_packets(), rtcp_packets(), st.binary(max_size=1600)),
    ).map(lambda item: bytes([item[0]]) + item[1])
    generated = st.lists(element, min_size=1, max_size=8).map(joined)
    return st.one_of(st.sampled_from(list(seeds)), mutated_bytes(seeds), generated)


STUN = Target("stun", False, _stun, _stun_strategy)
DATAGRAM = Target("datagram", False, _datagram, _datagram_strategy)
