"""Nothing flows to or from anyone in the waiting room, whatever their client sends.

The adversary, waiting, sends publish offers, subscribe requests and answers
nobody asked for, and keeps sending on any connection it had. The host counts
what reaches it at the wire; the adversary counts what reaches it.
"""

from __future__ import annotations

import asyncio

import pytest
from support.adversary import Adversary, camera, decisions, microphone
from support.counting import settle
from support.enforced import Scene, admit_adversary, honest, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
POLICY = {"audio": {"mute_on_entry": False}}
_SEEN_BY_THOSE_ADMITTED = {
    "roster_update",
    "chat",
    "subscribe_offer",
    "waiting_list",
    "waiting_update",
    "file_shared",
}


async def _knock_on_every_media_door(eve: Adversary) -> None:
    """Publish, subscribe, answer and stop while waiting: each refused with not_admitted."""
    published = await eve.publish({"camera": camera(), "microphone": microphone()})
    subscribed = await eve.subscribe()
    answered = await eve.request({"type": "subscribe_answer", "sdp": "v=0\r\n"})
    stopped = await eve.stop_publish("microphone")
    for reply in (published, subscribed, answered, stopped):
        assert (reply["type"], reply.get("code")) == ("error", "not_admitted"), reply
    for request in ({"type": "chat", "text": "let me in"}, {"type": "raise_hand"}):
        result = await eve.request(request)
        assert (result["allowed"], result["reason"]) == (False, "not_admitted")


async def test_someone_waiting_sends_and_receives_nothing(scene: Scene) -> None:
    meeting = await scene.meeting(POLICY)
    await meeting.host.media.subscribe()
    carol = await honest(meeting, "Carol Jones")
    await carol.media.publish(camera=camera(), microphone=microphone())
    eve = scene.adversary(meeting.meeting_id)
    assert (await eve.join())["type"] == "waiting"
    await _knock_on_every_media_door(eve)
    await carol.chat("only for those inside")
    await meeting.host.wire.flows(carol.participant_id, "camera")  # control: media flows
    measured = await window(meeting.host, eve)
    assert measured.received[(carol.participant_id, "microphone")] > 0
    assert meeting.host.wire.participants() == {carol.participant_id}
    assert eve.received.packets == {}
    assert {m["type"] for m in eve.messages} & _SEEN_BY_THOSE_ADMITTED == set()
    assert eve.mentions({"Carol Jones", "Alice Chen", "only for those inside"}) == set()


async def test_someone_sent_back_to_wait_is_cut_off_both_ways(scene: Scene) -> None:
    meeting = await scene.meeting(POLICY)
    host = meeting.host  # the host and co-hosts are exempt from the camera rule
    await host.media.subscribe()
    cohost = await meeting.api.create_invite(role="cohost")
    carol = await honest(meeting, "Carol Jones", invite=cohost.invite_token)
    await carol.media.publish(camera=camera(), microphone=microphone())
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    assert decisions(await eve.publish({"microphone": microphone()})) == [
        ("microphone", True, "published")
    ]
    await eve.subscribe()
    # Controls: media flows from Eve to the host, and from Carol to Eve.
    await host.wire.flows(eve.participant_id, "microphone")
    await eve.received.flows(carol.participant_id, "camera")

    camera_rule = {"required": True, "check_seconds": 2, "on_missing": "waiting_room"}
    await host.update_policy({**POLICY, "entry": {"camera": camera_rule}})
    sent_back = await eve.wait_for(lambda m: m["type"] == "back_to_waiting_room", timeout=30)
    after = eve.messages.index(sent_back)
    await settle()
    # Eve's microphone goes on on the connection she had; she republishes on it too.
    reoffer = await eve.publish()
    assert (reoffer["type"], reoffer.get("code")) == ("error", "not_admitted")
    await _knock_on_every_media_door(eve)
    forging = asyncio.ensure_future(
        eve.inject(eve.ssrc_of("microphone"), eve.payload_type_of("microphone"), 60, kind="audio")
    )
    to_eve = eve.received.snapshot()
    measured = await window(host, eve)
    await forging
    assert measured.received[(carol.participant_id, "camera")] > 0, "media still flows inside"
    assert measured.received[(eve.participant_id, "microphone")] == 0
    assert host.wire.marked == 0
    assert eve.received.since(to_eve) == {}, "nothing reaches someone waiting"
    assert {m["type"] for m in eve.messages[after:]} & _SEEN_BY_THOSE_ADMITTED == set()
