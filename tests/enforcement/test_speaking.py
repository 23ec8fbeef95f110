"""Speaking is decided on the server, and a muted microphone is never reported speaking.

At the wire: SDK bots publish a loud tone and silence, and an honest participant
is told (``speaking``) about the loud one only. An adversary muted by the policy
keeps sending a loud tone with its audio levels; the honest participant is never
told it speaks, beside a control where the host lets it speak and it is.
"""

from __future__ import annotations

import pytest
from aiortc.mediastreams import AudioStreamTrack
from support.adversary import decisions, microphone
from support.counting import HonestCounter, until
from support.enforced import Scene, admit_adversary, honest

from meetwarden.client_sdk import SpeakingChanged
from meetwarden.client_sdk.synthetic import SyntheticAudioTrack

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
OPEN = {"waiting_room": {"enabled": False}}


def _ever(carol: HonestCounter, participant_id: str | None) -> bool:
    return any(participant_id in speakers for speakers in carol.speaking_messages())


async def test_the_loud_participant_is_speaking_and_the_silent_one_is_not(scene: Scene) -> None:
    meeting = await scene.meeting({"entry": OPEN, "audio": {"mute_on_entry": False}})
    carol = await honest(meeting, "Carol Jones")
    loud = await honest(meeting, "Bob Loud")
    quiet = await honest(meeting, "Dan Quiet")
    await loud.media.publish(microphone=SyntheticAudioTrack())
    await quiet.media.publish(microphone=AudioStreamTrack())
    event = await carol.wait_for(
        SpeakingChanged, lambda e: loud.participant_id in e.participants, timeout=20
    )
    assert quiet.participant_id not in event.participants
    assert loud.participant_id in carol.speaking  # the SDK keeps the latest list too
    # The silent microphone's packets reach carol all along; it is never said to speak.
    await carol.media.subscribe()
    await carol.wire.flows(quiet.participant_id, "microphone")
    assert not _ever(carol, quiet.participant_id)
    # The loud one stops: carol hears that nobody speaks any more.
    await loud.media.stop("microphone")
    await carol.wait_for(
        SpeakingChanged, lambda e: loud.participant_id not in e.participants, timeout=20
    )
    assert not _ever(carol, quiet.participant_id)


async def test_a_muted_microphone_sending_a_loud_tone_is_never_reported_speaking(
    scene: Scene,
) -> None:
    policy = {"entry": OPEN, "audio": {"mute_on_entry": True, "unmute": "after_raised_hand"}}
    meeting = await scene.meeting(policy)
    carol = await honest(meeting, "Carol Jones")
    eve = scene.adversary(meeting.meeting_id)
    joined = await admit_adversary(meeting, eve)
    assert joined["you"]["muted"]
    reply = await eve.publish({"microphone": microphone()})
    assert decisions(reply) == [("microphone", True, "published_muted")]
    # A loud honest speaker, unmuted by the host, shows that speaking messages flow.
    bob = await honest(meeting, "Bob Jones")
    assert bob.participant_id is not None
    await meeting.host.ask_to_unmute(bob.participant_id)
    await bob.request_unmute()
    await bob.media.publish(microphone=SyntheticAudioTrack())
    await carol.wait_for(
        SpeakingChanged, lambda e: bob.participant_id in e.participants, timeout=20
    )
    sent = eve.sent["microphone"]
    await until(lambda: eve.sent["microphone"] > sent + 100, what="two seconds of Eve's tone")
    assert not _ever(carol, eve.participant_id)
    assert eve.participant_id not in carol.speaking
    # Control: the host lets Eve speak; the same tone makes her a speaker.
    assert eve.participant_id is not None
    await meeting.host.ask_to_unmute(eve.participant_id)
    assert (await eve.request({"type": "request_unmute"}))["allowed"]
    await carol.wait_for(
        SpeakingChanged, lambda e: eve.participant_id in e.participants, timeout=20
    )
    # Muted again by the host: she leaves the speakers at the next window.
    await meeting.host.mute(eve.participant_id)
    await carol.wait_for(
        SpeakingChanged, lambda e: eve.participant_id not in e.participants, timeout=20
    )
