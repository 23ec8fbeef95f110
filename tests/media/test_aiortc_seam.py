"""Pins the aiortc 1.16.0 / aioice 0.13.0 behaviour that aiortc_seam.py relies on or guards.

If one of these fails after an upgrade, read aiortc_seam.py's docstring before
changing anything: each hook names the line it depends on.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
import struct
from importlib.metadata import version

import aioice.ice
import aioice.stun
import pylibsrtp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import unpack_remb_fci

from meetwarden.client_sdk.synthetic import SyntheticVideoTrack
from meetwarden.server.media.aiortc_seam import (
    install_transport_guards,
    keep_codec,
    restrict_host_addresses,
)
from meetwarden.server.media.aiortc_seam.guards import (
    unguarded_datagram_received,
    unguarded_recv_next,
    unguarded_route_rtcp,
    unguarded_setup_srtp,
)
from meetwarden.server.media.aiortc_seam.stun_limits import unlimited_respond_error

from .conftest import until

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def test_versions_the_seam_was_written_for() -> None:
    assert version("aiortc") == "1.16.0"
    assert version("aioice") == "0.13.0"


def test_dtls_transport_hands_each_packet_to_its_instance_handlers() -> None:
    source = inspect.getsource(unguarded_recv_next)
    assert "await self._handle_rtp_data(data, arrival_time_ms=arrival_time_ms)" in source
    assert "await self._handle_rtcp_data(data)" in source
    assert "data = self._rx_srtp.unprotect(data)" in source
    send = inspect.getsource(RTCDtlsTransport._send_rtp)
    assert "self._tx_srtp.protect(data)" in send
    assert "self.transport._send(data)" in send


def test_receive_loop_ends_on_any_exception_the_srtp_guards_do_not_turn_into_a_drop() -> None:
    """The SRTP guards are still needed: aiortc catches pylibsrtp.Error only around
    unprotect, its receive loop ends the transport on anything but ConnectionError, and
    it counts a datagram before handling it (the guard's sign that one was taken)."""
    receive = inspect.getsource(unguarded_recv_next)
    assert "except pylibsrtp.Error as exc:" in receive
    assert receive.index("self.__rx_packets += 1") < receive.index("first_byte = data[0]")
    run = inspect.getsource(RTCDtlsTransport._RTCDtlsTransport__run)  # type: ignore[attr-defined]
    assert "except ConnectionError:" in run
    assert "self._set_state(State.CLOSED)" in run
    setup = inspect.getsource(unguarded_setup_srtp)
    assert "self._rx_srtp = Session(rx_policy)" in setup


def test_rtcp_routing_reads_remb_ssrcs_catching_only_value_error() -> None:
    """The routing guard is still needed: a REMB counting more SSRCs than it carries
    raises struct.error from aiortc's router."""
    assert "except ValueError:" in inspect.getsource(unguarded_route_rtcp)
    with pytest.raises(struct.error):
        unpack_remb_fci(b"REMB" + bytes([2, 0, 0, 0]) + bytes(4))


def test_aioice_answers_unauthenticated_requests_through_respond_error() -> None:
    """V3's limit sits in respond_error: aioice sends 400/401 from there, unsigned."""
    request = inspect.getsource(aioice.ice.Connection.request_received)
    assert request.count("self.respond_error(message, addr, protocol, (400") == 2
    assert "self.respond_error(message, addr, protocol, (401" in request
    assert "if error_code[0] in (400, 401):" in inspect.getsource(unlimited_respond_error)


def test_pylibsrtp_refuses_a_long_datagram_with_a_value_error() -> None:
    session = pylibsrtp.Session(
        pylibsrtp.Policy(
            key=bytes(30),
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
            srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        )
    )
    with pytest.raises(ValueError, match="packet is too long"):
        session.unprotect(b"\x80" + bytes(1500))


def test_sender_reports_read_the_counters_the_forwarder_feeds() -> None:
    source = inspect.getsource(RTCRtpSender._run_rtcp)
    for field in ("__ntp_timestamp", "__rtp_timestamp", "__packet_count", "__octet_count"):
        assert f"self.{field}" in source
    handler = inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "self._send_keyframe()" in handler
    assert "self._retransmit(seq)" in handler


def test_aioice_sends_through_the_nominated_pair() -> None:
    source = inspect.getsource(aioice.ice.Connection.sendto)
    assert "self._nominated.get(component)" in source
    assert "active_pair.protocol.send_data(data, active_pair.remote_addr)" in source


def test_stun_parser_raises_struct_error_that_aioice_does_not_catch() -> None:
    """V2 is still needed: PRIORITY with length 0 is not a ValueError."""
    attribute = struct.pack("!HH", 0x0024, 0)
    message = struct.pack("!HHI12s", 1, len(attribute), 0x2112A442, b"A" * 12) + attribute
    with pytest.raises(struct.error):
        aioice.stun.parse_message(message)
    assert "except ValueError" in inspect.getsource(unguarded_datagram_received)


async def _connected_pair() -> tuple[RTCPeerConnection, RTCPeerConnection]:
    restrict_host_addresses(["127.0.0.1"])
    one = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    two = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    one.createDataChannel("probe")
    await one.setLocalDescription(await one.createOffer())
    await two.setRemoteDescription(one.localDescription)
    await two.setLocalDescription(await two.createAnswer())
    await one.setRemoteDescription(two.localDescription)
    await until(lambda: one.connectionState == two.connectionState == "connected")
    return one, two


async def test_unguarded_aiortc_dies_of_one_empty_datagram(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """V1 is still needed: without the guard an off-path empty datagram closes the connection."""
    install_transport_guards()
    monkeypatch.setattr(aioice.ice.StunProtocol, "datagram_received", unguarded_datagram_received)
    monkeypatch.setattr(RTCDtlsTransport, "_recv_next", unguarded_recv_next)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: None)  # aiortc logs the IndexError
    one, two = await _connected_pair()
    try:
        port = int(re.findall(r"127\.0\.0\.1 (\d+) typ host", one.remoteDescription.sdp)[0])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as off_path:
            off_path.sendto(b"", ("127.0.0.1", port))
        await until(lambda: two.connectionState == "closed", within=5, what="the crash")
    finally:
        await one.close()
        await two.close()


async def test_aiortc_accepts_new_ice_credentials_silently() -> None:
    """V5 is still needed: aiortc has no ICE restart and does not refuse one."""
    one, two = await _connected_pair()
    try:
        offer = (await one.createOffer()).sdp
        offer = re.sub(r"a=ice-ufrag:\S+", "a=ice-ufrag:NEWU", offer)
        offer = re.sub(r"a=ice-pwd:\S+", "a=ice-pwd:NEWPASSWORDNEWPASSWORD12", offer)
        await two.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        answer = await two.createAnswer()
        assert "NEWU" not in answer.sdp
        assert two.sctp is not None
        assert two.sctp.transport.transport._connection.remote_username != "NEWU"
    finally:
        await one.close()
        await two.close()


async def test_trimming_negotiated_codecs_changes_the_answer() -> None:
    """setCodecPreferences cannot change an answer; trimming transceiver._codecs does."""
    restrict_host_addresses(["127.0.0.1"])
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        client.addTransceiver(SyntheticVideoTrack(160, 120), direction="sendonly")
        await client.setLocalDescription(await client.createOffer())
        assert "H264" in client.localDescription.sdp
        await server.setRemoteDescription(client.localDescription)
        transceiver = server.getTransceivers()[0]
        assert keep_codec(transceiver, "video/VP8") is not None
        answer = (await server.createAnswer()).sdp
        assert "VP8/90000" in answer
        assert "H264" not in answer
    finally:
        await client.close()
        await server.close()
