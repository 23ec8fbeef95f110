"""A screen is forwarded only while a host's grant allows it and its sharer confirmed it,
whatever its client sends.

The adversary shares a window from the start and never stops: without a
grant, granted but never confirmed, after a revoke, after its grant expired,
after it stopped the share itself. The honest counter sees the screen flow
while a confirmed share's grant holds (the control) and nothing of it otherwise.
"""

from __future__ import annotations

from typing import Any

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
    """The host grants; Eve publishes her screen again, which waits for her confirmation."""
    assert eve.participant_id is not None
    count = len(eve.seen("notice"))
    await meeting.host.grant(eve.participant_id, "screen", **expiry)
    await eve.wait_for(
        lambda m: m["type"] == "notice" and m["topic"] == "grant_received", after=count
    )
    assert decisions(await eve.publish()) == [("screen", True, "share_awaiting_confirmation")]


async def _confirm(eve: Adversary) -> dict[str, Any]:
    return await eve.request({"type": "confirm_share"})


def _decided(result: dict[str, Any]) -> tuple[bool, str]:
    return result["allowed"], result["reason"]


async def test_a_granted_screen_is_forwarded_only_from_its_confirmation_to_its_stop(
    scene: Scene,
) -> None:
    meeting, carol, eve = await _sharing_adversary(scene)
    assert _decided(await _confirm(eve)) == (False, "share_needs_grant")  # nothing to confirm
    await _grant(meeting, eve, minutes=5)
    # Granted and published, never confirmed: the screen reaches the server and stops there.
    measured = await window(carol, eve)
    assert measured.sent["screen"] > 5, "the adversary's screen kept sending"
    assert measured.received[(eve.participant_id, "camera")] > 0, "the counter receives Eve"
    assert measured.received[(eve.participant_id, "screen")] == 0
    assert carol.wire.of(eve.participant_id, "screen") == 0
    # Control: once confirmed, the same counter receives the same screen.
    assert _decided(await _confirm(eve)) == (True, "share_confirmed")
    await carol.wire.flows(eve.participant_id, "screen")
    # One action stops it: the gate closes and the grant ends.
    stopped = await eve.request({"type": "stop_share"})
    assert _decided(stopped) == (True, "publish_stopped")
    assert stopped["rule"] == "/screen_share/grant_ends_with_share"
    await eve.wait_for(lambda m: m["type"] == "notice" and m["topic"] == "grant_ended")
    await settle()
    await _screen_is_dark(carol, eve)
    # A new share needs a new grant: confirming again opens nothing.
    assert _decided(await _confirm(eve)) == (False, "share_needs_grant")
    measured = await window(carol, eve)
    assert measured.sent["screen"] > 5
    assert measured.received[(eve.participant_id, "camera")] > 0
    assert measured.received[(eve.participant_id, "screen")] == 0
    assert eve.you is not None
    assert eve.you["grants"] == []


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
    await _confirm(eve)
    await carol.wire.flows(eve.participant_id, "screen")
    assert eve.participant_id is not None
    await meeting.host.revoke(eve.participant_id, "screen")
    await settle()
    await _screen_is_dark(carol, eve)


async def test_a_screen_whose_grant_expired_is_not_forwarded(scene: Scene) -> None:
    meeting, carol, eve = await _sharing_adversary(scene)
    await _grant(meeting, eve, seconds=5)
    await _confirm(eve)
    await carol.wire.flows(eve.participant_id, "screen")  # control: shared while granted
    await eve.wait_for(
        lambda m: m["type"] == "notice" and m["topic"] == "grant_expired", timeout=30
    )
    await settle()
    await _screen_is_dark(carol, eve)


async def test_a_grant_given_again_outlasts_the_revoked_shares_track_going_late(
    scene: Scene,
) -> None:
    """A host revokes and grants again at once; the sharer's browser takes the old share's
    track down only after that (its renegotiation was on the way). The server sees that
    track go: the end of a share that had ended, not of the new grant, which still lets
    the screen be shared."""
    meeting, carol, eve = await _sharing_adversary(scene)
    await _grant(meeting, eve, minutes=5)
    await _confirm(eve)
    await carol.wire.flows(eve.participant_id, "screen")  # control: shared while granted
    assert eve.participant_id is not None
    count = len(eve.seen("notice"))
    await meeting.host.revoke(eve.participant_id, "screen")
    await meeting.host.grant(eve.participant_id, "screen", minutes=5)
    await eve.wait_for(
        lambda m: m["type"] == "notice" and m["topic"] == "grant_received", after=count
    )
    taken_down = await eve.publish(declare={"screen": None})  # the old track goes, late
    assert taken_down["type"] == "publish_answer", taken_down
    # The room decides in order: the track's end was decided before this publish.
    shared = await eve.publish(declare={"screen": "screen"})
    assert ("screen", True, "share_awaiting_confirmation") in decisions(shared)
    assert _decided(await _confirm(eve)) == (True, "share_confirmed")
    await carol.wire.flows(eve.participant_id, "screen")
    assert eve.you is not None
    assert [grant["kind"] for grant in eve.you["grants"]] == ["screen"]
