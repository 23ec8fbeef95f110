"""A screen is forwarded only while a host's grant allows it, whatever its client sends.

The adversary shares a window from the start and never stops: without a
grant, after a revoke, after its grant expired. The honest counter sees the
screen flow while the grant holds (the control) and nothing of it otherwise.
"""

from __future__ import annotations

import pytest
from support.adversary import Adversary, camera, decisions, screen
from support.counting import HonestCounter, settle
from support.enforced import Meeting, Scene, admit_adversary, honest, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "screen_share": {"allowed": "with_grant", "surfaces": ["window"]},
}
NEEDS_GRANT = ("screen", False, "share_needs_grant")


async def _sharing_adversary(scene: Scene) -> tuple[Meeting, HonestCounter, Adversary]:
    meeting = await scene.meeting(POLICY)
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    reply = await eve.publish({"camera": camera(), "screen": screen()})
    assert sorted(decisions(reply)) == [("camera", True, "published"), NEEDS_GRANT]
    await carol.wire.flows(eve.participant_id, "camera")
    return meeting, carol, eve


async def _screen_is_dark(carol: HonestCounter, eve: Adversary) -> None:
    """Eve publishes her screen once more (refused) and keeps sending; nothing arrives."""
    assert decisions(await eve.publish()) == [NEEDS_GRANT]
    measured = await window(carol, eve)
    assert measured.sent["screen"] > 5, "the adversary's screen kept sending"
    assert measured.received[(eve.participant_id, "camera")] > 0, "the counter receives Eve"
    assert measured.received[(eve.participant_id, "screen")] == 0


async def _grant(meeting: Meeting, eve: Adversary, **expiry: int) -> None:
    assert eve.participant_id is not None
    count = len(eve.seen("notice"))
    await meeting.host.grant(eve.participant_id, "screen", **expiry)
    await eve.wait_for(lambda m: m["type"] == "notice" and m["topic"] == "grant_received")
    assert len(eve.seen("notice")) > count
    assert decisions(await eve.publish()) == [("screen", True, "published")]


async def test_a_screen_without_a_grant_or_after_a_revoke_is_not_forwarded(scene: Scene) -> None:
    meeting, carol, eve = await _sharing_adversary(scene)
    await eve.request({"type": "request_share", "kind": "screen"})  # asking is not a grant
    relabelled = await eve.publish(declare={"screen": "camera"})
    assert relabelled["type"] == "error"
    assert relabelled["code"] in ("source_changed", "duplicate_source")
    await _screen_is_dark(carol, eve)
    assert carol.wire.of(eve.participant_id, "screen") == 0
    # Control: with a grant, the same counter receives the same screen.
    await _grant(meeting, eve, minutes=5)
    await carol.wire.flows(eve.participant_id, "screen")
    assert eve.participant_id is not None
    await meeting.host.revoke(eve.participant_id, "screen")
    await settle()
    await _screen_is_dark(carol, eve)


async def test_a_screen_whose_grant_expired_is_not_forwarded(scene: Scene) -> None:
    meeting, carol, eve = await _sharing_adversary(scene)
    await _grant(meeting, eve, seconds=5)
    await carol.wire.flows(eve.participant_id, "screen")  # control: shared while granted
    await eve.wait_for(
        lambda m: m["type"] == "notice" and m["topic"] == "grant_expired", timeout=30
    )
    await settle()
    await _screen_is_dark(carol, eve)
