"""Every fuzz target, by name."""

from __future__ import annotations

from typing import Any

from .harness import Target
from .packets import RTCP, RTP, VP8_KEYFRAME
from .participant_socket import CLIENT_MESSAGE
from .policy import POLICY
from .signalling import ANSWER, PUBLISH, SDP_OFFER, SUBSCRIBER_ANSWER
from .transport import DATAGRAM, STUN

__all__ = ["TARGETS"]

TARGETS: dict[str, Target[Any]] = {
    target.name: target
    for target in (
        SDP_OFFER,
        PUBLISH,
        SUBSCRIBER_ANSWER,
        ANSWER,
        STUN,
        DATAGRAM,
        RTP,
        RTCP,
        VP8_KEYFRAME,
        POLICY,
        CLIENT_MESSAGE,
    )
}
