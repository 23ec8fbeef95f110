"""A reconnect with a resume token gets the person's current state, never an older one.

The adversary keeps the resume token it was given at admission, drops its
connection and comes back with it after the host muted it, demoted it, after
the camera rule sent it back to the waiting room, and after a removal. What
it then gets to send through to an honest participant is counted at the wire,
beside a control where the same counter received the same source.

The server gives a new, single-use token in every ``welcome`` (``admitted``
repeats the current one); the adversary keeps the latest it read.
"""

from __future__ import annotations

import pytest
from support.adversary import camera, decisions, microphone, screen
from support.counting import settle
from support.enforced import Scene, admit_adversary, honest, window

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


async def test_a_host_mute_holds_after_a_reconnect_and_a_used_token_resumes_nobody(
    scene: Scene,
) -> None:
    meeting = await scene.meeting({"audio": {"mute_on_entry": False, "unmute": "host_only"}})
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    assert decisions(await eve.publish({"microphone": microphone()})) == [
        ("microphone", True, "published")
    ]
    await carol.wire.flows(eve.participant_id, "microphone")  # control: Eve is heard
    assert eve.participant_id is not None
    await meeting.host.mute(eve.participant_id)
    await settle()
    assert (await window(carol, eve)).received[(eve.participant_id, "microphone")] == 0

    used = eve.resume_token
    resumed = await eve.resume()
    assert resumed["type"] == "admitted", "a dropped connection resumes without waiting"
    reply = await eve.publish({"microphone": microphone(), "camera": camera()}, fresh=True)
    await carol.wire.flows(eve.participant_id, "camera")  # the new connection reaches Carol
    measured = await window(carol, eve)
    assert measured.sent["microphone"] > 20, "the adversary's microphone kept sending"
    assert measured.received[(eve.participant_id, "microphone")] == 0, (
        "a host mute must survive a reconnect with a resume token"
    )
    assert ("microphone", True, "published_muted") in decisions(reply)
    assert resumed["you"]["muted"]

    # The token Eve already used resumes nobody: whoever presents it is a stranger.
    thief = scene.adversary(meeting.meeting_id, name="Eve Mallory")
    again = await thief.join(resume_token=used)
    assert again["type"] == "waiting", "a resume token works once"
    assert thief.participant_id != eve.participant_id
    assert eve.status == "admitted", "the resumed session is left alone"


async def test_a_demoted_cohost_resumes_as_a_participant(scene: Scene) -> None:
    meeting = await scene.meeting({"screen_share": {"allowed": "with_grant"}})
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    invite = await meeting.api.create_invite(role="cohost")
    eve = scene.adversary(meeting.meeting_id)
    joined = await admit_adversary(meeting, eve, invite=invite.invite_token)
    assert joined["you"]["role"] == "cohost"
    reply = await eve.publish({"screen": screen()})
    assert decisions(reply) == [("screen", True, "share_awaiting_confirmation")]
    assert (await eve.request({"type": "confirm_share"}))["reason"] == "share_confirmed"
    await carol.wire.flows(eve.participant_id, "screen")  # control: a co-host shares
    assert eve.participant_id is not None
    await meeting.host.set_role(eve.participant_id, "participant")
    await settle()
    assert decisions(await eve.publish()) == [("screen", False, "share_needs_grant")]
    assert (await window(carol, eve)).received[(eve.participant_id, "screen")] == 0

    resumed = await eve.resume()
    assert resumed["type"] == "admitted"
    reply = await eve.publish({"screen": screen(), "camera": camera()}, fresh=True)
    await carol.wire.flows(eve.participant_id, "camera")  # the new connection reaches Carol
    measured = await window(carol, eve)
    assert measured.sent["screen"] > 5, "the adversary's screen kept sending"
    assert measured.received[(eve.participant_id, "screen")] == 0, (
        "a demoted co-host must not share again by resuming"
    )
    assert ("screen", False, "share_needs_grant") in decisions(reply)
    assert resumed["you"]["role"] == "participant"
    assert carol.participant_id is not None
    for action in (
        {"type": "mute", "participant": carol.participant_id},
        {"type": "grant", "participant": eve.participant_id, "kind": "screen", "minutes": 5},
        {"type": "lock", "locked": True},
    ):
        result = await eve.request(action)
        assert (result["allowed"], result["reason"]) == (False, "not_a_host"), action


async def test_someone_the_camera_rule_sent_back_resumes_waiting(scene: Scene) -> None:
    policy = {"audio": {"mute_on_entry": False}}
    meeting = await scene.meeting(policy)
    host = meeting.host  # the host is exempt from the camera rule: it counts here
    await host.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    assert decisions(await eve.publish({"microphone": microphone()})) == [
        ("microphone", True, "published")
    ]
    await host.wire.flows(eve.participant_id, "microphone")  # control: Eve is heard
    # Now a working camera is required; Eve has none and is sent back to wait.
    camera_rule = {"required": True, "check_seconds": 2, "on_missing": "waiting_room"}
    await host.update_policy({**policy, "entry": {"camera": camera_rule}})
    await eve.wait_for(lambda m: m["type"] == "back_to_waiting_room", timeout=30)
    await settle()
    assert (await window(host, eve)).received[(eve.participant_id, "microphone")] == 0

    resumed = await eve.resume()
    published = await eve.publish({"microphone": microphone()}, fresh=True)
    subscribed = await eve.subscribe()
    measured = await window(host, eve)
    assert measured.received[(eve.participant_id, "microphone")] == 0, (
        "someone sent back to the waiting room must not be heard after resuming"
    )
    assert resumed["type"] == "waiting", "a resume gives the waiting room back, not admission"
    assert (published["type"], published.get("code")) == ("error", "not_admitted")
    assert (subscribed["type"], subscribed.get("code")) == ("error", "not_admitted")


async def test_someone_removed_does_not_come_back_with_a_resume_token(scene: Scene) -> None:
    meeting = await scene.meeting({})
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    await eve.publish({"camera": camera(), "microphone": microphone()})
    await carol.wire.flows(eve.participant_id, "camera")  # control: Eve is seen
    assert eve.participant_id is not None
    await meeting.host.remove(eve.participant_id)
    await eve.wait_for(lambda m: m["type"] == "dismissed")
    await settle()
    assert (await window(carol, eve)).received[(eve.participant_id, "camera")] == 0

    back = await eve.resume()
    assert (back["type"], back.get("reason")) == ("join_refused", "banned")
    # Another name and no device token: the token still resumes nobody.
    stranger = scene.adversary(meeting.meeting_id, name="Mallory Stone")
    knock = await stranger.join(resume_token=eve.resume_token)
    assert knock["type"] in ("waiting", "join_refused"), "like anyone new: wait, or be refused"
    if knock["type"] == "waiting":
        assert stranger.participant_id != eve.participant_id
        published = await stranger.publish({"camera": camera()})
        assert (published["type"], published.get("code")) == ("error", "not_admitted")
    assert (await window(carol, stranger)).received[(eve.participant_id, "camera")] == 0
