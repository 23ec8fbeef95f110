"""RFC 8285 header extensions: one element read by id, blocks built, ``a=extmap`` read."""

from __future__ import annotations

import struct

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from meetwarden.server.media.header_extensions import (
    ABS_SEND_TIME,
    AUDIO_LEVEL,
    MID,
    OutgoingExtensions,
    abs_send_time,
    build_block,
    extension_ids,
    find_element,
)


def _packet(block: bytes, csrcs: int = 0, payload: bytes = b"\xfc\xff\xfe") -> bytes:
    first = 0x80 | (0x10 if block else 0) | csrcs
    head = struct.pack("!BBHII", first, 111, 7, 960, 0x1234)
    return head + b"\x00\x00\x00\x01" * csrcs + block + payload


# As Chrome sends an Opus packet: ssrc-audio-level (id 1, V=1, 30 dBov) then a
# 1-byte element id 4 and padding, in the one-byte form.
CHROME_AUDIO = _packet(bytes.fromhex("bede0002109e400000000000"))
# The two-byte form (RFC 8285 4.3), with padding between elements.
TWO_BYTE = _packet(bytes.fromhex("100000030001019e0c04616263640000"))


def test_reads_one_element_in_the_one_byte_form() -> None:
    assert find_element(CHROME_AUDIO, 1) == b"\x9e"
    assert find_element(CHROME_AUDIO, 4) == b"\x00"
    assert find_element(CHROME_AUDIO, 3) is None


def test_reads_the_two_byte_form_past_padding() -> None:
    assert find_element(TWO_BYTE, 1) == b"\x9e"
    assert find_element(TWO_BYTE, 12) == b"abcd"
    assert find_element(TWO_BYTE, 2) is None


def test_skips_csrcs_before_the_block() -> None:
    packet = _packet(bytes.fromhex("bede000120aa0000"), csrcs=2)
    assert find_element(packet, 2) == b"\xaa"


def test_reads_what_aiortc_writes() -> None:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri=MID),
                RTCRtpHeaderExtensionParameters(id=2, uri=AUDIO_LEVEL),
            ]
        )
    )
    packet = RtpPacket(payload_type=111, sequence_number=1, timestamp=2, ssrc=3, payload=b"x")
    packet.extensions.mid = "0"
    packet.extensions.audio_level = (True, 17)
    data = packet.serialize(extensions)
    assert find_element(data, 1) == b"0"
    assert find_element(data, 2) == bytes([0x80 | 17])


@pytest.mark.parametrize(
    "packet",
    [
        _packet(bytes.fromhex("bede00ff109e0000")),  # length runs past the packet
        _packet(bytes.fromhex("bede0001f09e0000")),  # id 15: stop reading
        _packet(bytes.fromhex("bede0001339e0000")),  # element runs past the block
        _packet(bytes.fromhex("1000000101ff0000")),  # two-byte length past the block
        _packet(bytes.fromhex("1000000100000001")),  # a two-byte id with no length
        _packet(bytes.fromhex("12340001109e0000")),  # an unknown profile
        _packet(b"", payload=b""),  # no block
        bytes.fromhex("90000001"),  # shorter than a header
        _packet(b"")[:12] + b"\xbe",  # X set, the block cut short
        bytes([0x9F]) + bytes(20),  # 15 CSRCs that are not there
    ],
)
def test_malformed_blocks_read_as_nothing(packet: bytes) -> None:
    data = bytearray(packet)
    data[0] |= 0x10
    for element in (1, 2, 3, 15):
        assert find_element(bytes(data), element) is None


def test_padding_bytes_alone_hold_nothing() -> None:
    assert find_element(_packet(bytes.fromhex("bede00020000000000000000")), 1) is None


def test_builds_the_one_byte_form_when_it_can() -> None:
    block = build_block([(1, b"0"), (3, b"\x01\x02\x03")])
    assert block == bytes.fromhex("bede00021030320102030000")
    assert find_element(_packet(block), 3) == b"\x01\x02\x03"


def test_builds_the_two_byte_form_for_large_ids_or_values() -> None:
    block = build_block([(20, b"abc"), (1, b"x" * 17)])
    assert block[:2] == b"\x10\x00"
    assert len(block) % 4 == 0
    assert find_element(_packet(block), 20) == b"abc"
    assert find_element(_packet(block), 1) == b"x" * 17
    assert build_block([]) == b""
    with pytest.raises(ValueError, match="extension 256"):
        build_block([(256, b"a" * 20)])


def test_outgoing_block_carries_mid_and_a_fresh_abs_send_time() -> None:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri=MID),
                RTCRtpHeaderExtensionParameters(id=3, uri=ABS_SEND_TIME),
            ]
        )
    )
    outgoing = OutgoingExtensions("4", 1, 3)
    before = abs_send_time()
    data = outgoing.header(0x80, 96, 5, 6, 7) + b"payload"
    after = abs_send_time()
    parsed = RtpPacket.parse(data, extensions)
    assert parsed.extensions.mid == "4"
    assert (parsed.extensions.abs_send_time - before) & 0xFFFFFF <= (after - before) & 0xFFFFFF
    assert parsed.payload == b"payload"
    assert parsed.sequence_number == 5


def test_outgoing_block_without_abs_send_time_is_static() -> None:
    outgoing = OutgoingExtensions("0", 1, None)
    data = outgoing.header(0x80, 111, 1, 2, 3)
    assert find_element(data + b"x", 1) == b"0"
    assert not OutgoingExtensions(None, None, None).has_abs_send_time
    assert OutgoingExtensions(None, None, None).empty


ANSWER = """v=0
o=- 1 1 IN IP4 0.0.0.0
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=mid:0
a=extmap:2/sendonly urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:x bad
a=extmap:300 urn:too-big
m=video 9 UDP/TLS/RTP/SAVPF 96
a=mid:1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:3/recvonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4
"""


def test_reads_negotiated_ids_by_mid_and_direction() -> None:
    assert extension_ids(ANSWER, sending=True) == {
        "0": {MID: 1},
        "1": {MID: 1, ABS_SEND_TIME: 3},
    }
    assert extension_ids(ANSWER, sending=False) == {
        "0": {MID: 1, AUDIO_LEVEL: 2},
        "1": {MID: 1},
    }
