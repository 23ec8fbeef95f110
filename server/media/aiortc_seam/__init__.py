"""The one place that reaches into aiortc's and aioice's private API.

Pinned to aiortc 1.16.0 and aioice 0.13.0; ``tests/media/test_aiortc_seam.py``
pins every behaviour used here, so an upgrade that moves one of them fails
there first. The rest of the media plane uses only public aiortc API and this
package: ``forwarding`` (the hot path), ``guards`` (V1, V2, SRTP), ``stun_limits``
(V3) and ``release`` (V4). Consent freshness (RFC 7675), which the SDK's bots
keep too, is ``meetwarden.rtc.consent``; ``guards`` installs it.
Line numbers below are those of aiortc 1.16.0 (``notes/performance-research.md``
section 2).

What is reached into, and why:

- Receive: ``RTCDtlsTransport._handle_rtp_data`` (rtcdtlstransport.py:614,
  called once per decrypted RTP packet at l.675) is replaced on a publisher's
  transport, so raw RTP reaches the forwarder before aiortc parses, depacketises
  or decodes it (performance-research option (c)). ``_handle_rtcp_data`` is
  wrapped to read the publisher's sender reports.
- Send: ``RtpSink`` protects with the transport's ``_tx_srtp`` and writes to
  aioice's nominated pair synchronously, skipping four coroutine layers per
  packet (``_send_rtp`` -> ``RTCIceTransport._send`` -> ``Connection.sendto``
  -> ``send_data``; rtcdtlstransport.py:711, aioice ice.py:747-769).
- Subscriber senders (option (d)): an ``RTCRtpSender`` keeps SSRC, SDP and its
  RTCP loop but is given a track that never yields; ``ForwardedSender`` feeds
  its sender-report counters (rtcrtpsender.py:426-473 would otherwise send
  zero-count SRs) and takes NACK/PLI/FIR before the sender, which could not
  answer them (its history is empty, and a PLI only sets an encoder flag).
- Negotiation: ``RTCRtpTransceiver._codecs`` is trimmed after an offer is set,
  because ``setCodecPreferences`` cannot change an answer (the codecs are
  chosen in ``setRemoteDescription``, rtcpeerconnection.py:919-931); the RTX
  payload type and the NACK feedback both sides agreed on are read there too.
- Guards (security-bar section 0): V1, an empty datagram kills the DTLS
  transport (``first_byte = data[0]``, rtcdtlstransport.py:653); V2,
  ``stun.parse_message`` raises ``struct.error`` where aioice only catches
  ``ValueError`` (ice.py:289-294); V4, ``close()`` raises after some failed
  negotiations and must not leak sockets. SRTP: pylibsrtp raises ValueError for a
  datagram over 1,500 bytes where aiortc catches only ``pylibsrtp.Error``
  (rtcdtlstransport.py:692-700), and ``__run`` ends the transport on anything
  but ConnectionError (l.538-550): ``_setup_srtp`` and ``_recv_next`` are
  wrapped so that such a datagram is dropped, never the connection. V3,
  aioice answers unauthenticated Binding requests from anyone at 2.4 times
  their size: ``Connection.respond_error`` (ice.py:1353) is rate-limited for
  them per source address.
- Consent: ``Connection.query_consent`` (ice.py:1249) is replaced (``meetwarden.rtc``):
  aioice ended a connection whose peer answered its consent checks more than
  0.5 s late six times in a row; consent now expires 30 s after the last answer,
  as RFC 7675 says.
"""

from .forwarding import (
    ForwardedSender,
    RtpSink,
    idle_track,
    intercept_publisher_media,
    keep_codec,
    negotiated_payload_type,
    ntp_now,
    pin_vp8_bitrate,
    primary_transport,
    restrict_host_addresses,
    retransmission_of,
    rtcp_ssrc,
)
from .guards import (
    GuardCounters,
    guard_counters,
    install_transport_guards,
)
from .release import open_sockets, release_peer_connection

__all__ = [
    "ForwardedSender",
    "GuardCounters",
    "RtpSink",
    "guard_counters",
    "idle_track",
    "install_transport_guards",
    "intercept_publisher_media",
    "keep_codec",
    "negotiated_payload_type",
    "ntp_now",
    "open_sockets",
    "pin_vp8_bitrate",
    "primary_transport",
    "release_peer_connection",
    "restrict_host_addresses",
    "retransmission_of",
    "rtcp_ssrc",
]
