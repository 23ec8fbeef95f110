"""A muted microphone that keeps sending is not forwarded, whatever its client does.

The adversary's microphone sends all along; an honest participant counts, at
the wire, what reaches it. Each zero sits beside a control in the same test
where the same counter shows the same microphone flowing.
"""

from __future__ import annotations

import pytest
from support.adversary import Adversary, decisions, microphone
from support.counting import settle
from support.enforced import Scene, admit_adversary, honest, muted_on_entry_stays_unheard, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
OPEN = {"waiting_room": {"enabled": False}}


async def _insist_on_speaking(eve: Adversary) -> None:
    """Everything a client can try to get its voice through without the host."""
    refused = await eve.request({"type": "request_unmute"})
    assert refused["type"] == "result"
    assert not refused["allowed"]
    await eve.request({"type": "raise_hand"})
    assert not (await eve.request({"type": "request_unmute"}))["allowed"]
    await eve.request({"type": "mute_self"})
    assert not (await eve.request({"type": "request_unmute"}))["allowed"]
    # Stop the microphone and publish it again: a new decision, still muted.
    await eve.stop_publish("microphone")
    again = await eve.publish()
    assert decisions(again) == [("microphone", True, "published_muted")]


async def test_a_microphone_muted_on_entry_is_not_forwarded_however_it_insists(
    scene: Scene,
) -> None:
    policy = {"entry": OPEN, "audio": {"mute_on_entry": True, "unmute": "after_raised_hand"}}
    await muted_on_entry_stays_unheard(scene, await scene.meeting(policy), _insist_on_speaking)


async def test_a_microphone_the_host_muted_is_not_forwarded_however_it_insists(
    scene: Scene,
) -> None:
    policy = {"entry": OPEN, "audio": {"mute_on_entry": False, "unmute": "after_raised_hand"}}
    meeting = await scene.meeting(policy)
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    joined = await admit_adversary(meeting, eve)
    assert not joined["you"]["muted"]
    reply = await eve.publish({"microphone": microphone()})
    assert decisions(reply) == [("microphone", True, "published")]
    await carol.wire.flows(eve.participant_id, "microphone")  # control: Eve is heard
    assert eve.participant_id is not None
    await meeting.host.mute(eve.participant_id)
    await settle()
    await _insist_on_speaking(eve)
    measured = await window(carol, eve)
    assert measured.sent["microphone"] > 20, "the adversary's microphone kept sending"
    assert measured.received[(eve.participant_id, "microphone")] == 0
    # Control after the zero: the host lets Eve speak again, the counter hears her.
    await meeting.host.ask_to_unmute(eve.participant_id)
    assert (await eve.request({"type": "request_unmute"}))["allowed"]
    await carol.wire.flows(eve.participant_id, "microphone")
