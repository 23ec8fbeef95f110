"""Packets on SSRCs or m-lines the server never agreed to are never forwarded.

The adversary publishes a camera and a microphone the policy lets through
(the control: both flow to the honest counter throughout), then forges RTP
the server never agreed to: on an m-line it named no source for, on its
camera's retransmission SSRC, and on SSRCs it never declared whose header
extension claims the mid of its open camera or microphone (RFC 8843 routes an
unknown SSRC by mid; the server must not). Every forged packet carries a
marker that the counter looks for in every payload it receives; at the end,
the same forged packets on the same m-line, declared this time, do arrive.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from support.adversary import Undeclared, camera, decisions, microphone, screen
from support.counting import settle, until
from support.enforced import Scene, admit_adversary, honest, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "audio": {"mute_on_entry": False},
    "screen_share": {"allowed": "anyone", "surfaces": ["window"]},
}


async def test_packets_on_undeclared_ssrcs_or_m_lines_are_never_forwarded(scene: Scene) -> None:
    meeting = await scene.meeting(POLICY)
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    reply = await eve.publish({"camera": camera(), "microphone": microphone()})
    assert sorted(decisions(reply)) == [
        ("camera", True, "published"),
        ("microphone", True, "published"),
    ]
    await carol.wire.flows(eve.participant_id, "camera")
    await carol.wire.flows(eve.participant_id, "microphone")

    # A sending m-line with no source is refused outright ...
    sneaky = await eve.publish(
        {"screen": screen()}, declare={"screen": Undeclared}, hide_undeclared=False
    )
    assert (sneaky["type"], sneaky.get("code")) == ("error", "unknown_track")
    # ... so the adversary offers it inactive (the server takes that) and sends on it anyway.
    hidden = await eve.publish(declare={"screen": Undeclared})
    assert hidden["type"] == "publish_answer"
    assert decisions(hidden) == []
    screen_mid, camera_mid = eve.mid_of("screen"), eve.mid_of("camera")
    microphone_mid = eve.mid_of("microphone")
    video, audio = eve.payload_type_of("camera"), eve.payload_type_of("microphone")
    never_declared = random.sample(range(1, 2**32), 2)
    forging = asyncio.gather(
        eve.inject(eve.ssrc_of("screen"), video, 100, mid=screen_mid),
        eve.inject(eve.ssrc_of("camera", rtx=True), video, 100),
        eve.inject(never_declared[0], video, 100, mid=camera_mid),
        eve.inject(never_declared[1], audio, 100, mid=microphone_mid, kind="audio"),
    )
    measured = await window(carol, eve, seconds=2.5)
    assert await forging == [100, 100, 100, 100], "every forged packet left the adversary"
    await settle()
    # Measured while the forgeries were on the wire: the declared tracks flowed ...
    assert measured.received[(eve.participant_id, "camera")] > 0
    assert measured.received[(eve.participant_id, "microphone")] > 0
    # ... and not one forged packet reached the counter, on any SSRC.
    assert carol.wire.marked == 0
    assert {key for key in carol.wire.packets if key[0] == "?"} == set()
    assert {s for p, s in carol.wire.offered_keys() if p == eve.participant_id} == {
        "camera",
        "microphone",
    }
    assert eve.sent["screen"] == 100
    # Control: the same forged packets on the same m-line, once it is declared (and the
    # policy lets anyone share), do reach the counter: the marker is seen where it lands.
    eve.sending["screen"].sender.replaceTrack(None)  # only forged packets on its SSRC
    declared = await eve.publish(declare={"screen": "screen"})
    assert decisions(declared) == [("screen", True, "share_awaiting_confirmation")]
    assert (await eve.request({"type": "confirm_share"}))["reason"] == "share_confirmed"
    await eve.inject(eve.ssrc_of("screen"), video, 20, mid=screen_mid)
    await until(lambda: carol.wire.marked > 0, what="forged packets on a declared m-line")
