"""A retransmission is forwarded only while its track's gate is open, however it insists.

The server asks a publisher again for what its link lost (a NACK) and forwards
the retransmission in its place. The adversary loses screen packets on its own
link on purpose, so the server asks; once the host revokes the share it goes
on losing them and retransmits everything it still has, asked or not, on its
RTX stream. The honest counter recognises the payloads at the wire: while the
share is granted (the control) the lost packets reach it as retransmissions;
after the revoke nothing of the screen does, retransmissions included, and
the server asks for nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from aiortc.rtp import RTCP_RTPFB_NACK, RtcpRtpfbPacket
from support.adversary import Adversary, camera, decisions, screen
from support.counting import settle, until
from support.enforced import Scene, admit_adversary, honest, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "screen_share": {"allowed": "with_grant", "surfaces": ["window"]},
}


def _payload(data: bytes) -> tuple[int, int, bytes] | None:
    """(SSRC, sequence number, payload) of an RTP packet in clear, as the server forwards
    the payload (RFC 3550 5.1: after the CSRCs and the header extension)."""
    if len(data) < 12 or data[0] >> 6 != 2 or 192 <= data[1] <= 223:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and len(data) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    return int.from_bytes(data[8:12], "big"), int.from_bytes(data[2:4], "big"), data[offset:]


class LossyScreen:
    """Eve's screen as her own link loses one packet in ``every``, and what she hears."""

    def __init__(self, eve: Adversary, every: int = 5) -> None:
        self.sender = eve.sending["screen"].sender
        self.ssrc = self.sender._ssrc
        self.lost: dict[int, bytes] = {}
        """Sequence number -> payload of each screen packet lost on the way."""
        self.nacked: list[int] = []
        self.retransmitting = False
        self._task: asyncio.Task[None] | None = None
        dtls = self.sender.transport
        send = dtls._send_rtp

        async def lossy(data: bytes) -> None:
            found = _payload(data)
            if found is not None and found[0] == self.ssrc and found[1] % every == 0:
                self.lost[found[1]] = found[2]
                return
            await send(data)

        dtls._send_rtp = lossy
        handle = self.sender._handle_rtcp_packet

        async def heard(packet: Any) -> None:
            if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                self.nacked.extend(packet.lost)
            await handle(packet)  # aiortc answers: an RTX packet per one it still has

        self.sender._handle_rtcp_packet = heard

    def keep_retransmitting(self) -> None:
        """Retransmits every lost packet it still has, unasked, every 20 ms from now on."""
        self._task = asyncio.create_task(self._retransmit())

    async def _retransmit(self) -> None:
        while True:
            for sequence_number in list(self.lost)[-20:]:
                with contextlib.suppress(ConnectionError):
                    await self.sender._retransmit(sequence_number)
            await asyncio.sleep(0.02)  # a stubborn client's pace, not a wait on an event

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def test_retransmissions_of_a_revoked_screen_are_not_forwarded(scene: Scene) -> None:
    meeting = await scene.meeting(POLICY)
    carol = await honest(meeting, "Carol Jones")
    carol.wire.payloads = {}
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    await eve.publish({"camera": camera(), "screen": screen()})
    assert eve.participant_id is not None
    count = len(eve.seen("notice"))
    await meeting.host.grant(eve.participant_id, "screen", minutes=5)
    await eve.wait_for(
        lambda m: m["type"] == "notice" and m["topic"] == "grant_received", after=count
    )
    assert decisions(await eve.publish()) == [("screen", True, "share_awaiting_confirmation")]
    assert (await eve.request({"type": "confirm_share"}))["allowed"]
    await carol.wire.flows(eve.participant_id, "screen")
    key = (eve.participant_id, "screen")
    payloads = carol.wire.payloads

    # Control: what Eve's link loses, the server asks for, and the retransmission reaches
    # Carol in its place.
    screen_loss = LossyScreen(eve)
    try:

        def repaired() -> set[int]:
            got = payloads.get(key, set())
            return {s for s, payload in screen_loss.lost.items() if payload in got}

        await carol.wire.flows(eve.participant_id, "screen", packets=1)
        await until(lambda: len(repaired()) >= 3, what="three lost screen packets reach Carol")
        assert repaired() <= set(screen_loss.nacked), "each of them asked for by the server"

        # The host revokes the share. Eve keeps sending, keeps losing, and retransmits
        # everything she lost, asked or not.
        await meeting.host.revoke(eve.participant_id, "screen")
        await settle()
        lost_before = set(screen_loss.lost)
        nacked_before = len(screen_loss.nacked)
        screen_loss.keep_retransmitting()
        measured = await window(carol, eve, seconds=3.0)
        assert measured.sent["screen"] > 5, "the adversary's screen kept sending"
        assert measured.sent["screen-rtx"] > 20, "and retransmitting"
        assert measured.received[(eve.participant_id, "camera")] > 0, "the counter receives Eve"
        assert measured.received[key] == 0
        got = payloads.get(key, set())
        lost_after = {s: p for s, p in screen_loss.lost.items() if s not in lost_before}
        assert lost_after, "Eve lost screen packets after the revoke too"
        assert not any(payload in got for payload in lost_after.values())
        assert len(screen_loss.nacked) == nacked_before, "nothing of a closed gate is asked for"
    finally:
        screen_loss.stop()
