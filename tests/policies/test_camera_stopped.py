"""A required camera stopped on purpose (``stop_publish``) is a camera lost, and whoever
is sent back to the waiting room for it waits with that reason for the hosts to see."""

from __future__ import annotations

from meetwarden.policies.testing import Meeting

CAMERA = {"required": True, "check_seconds": 5, "on_lost": "waiting_room", "lost_grace_seconds": 3}


def _bob_with_working_camera() -> Meeting:
    meeting = Meeting({"entry": {"waiting_room": {"enabled": False}, "camera": CAMERA}})
    meeting.join("h", "Alice Host", role="host")
    meeting.join("bob", "Bob Smith")
    assert meeting.event({"type": "publish_requested", "participant": "bob", "source": "camera"})
    seen = meeting.event({"type": "camera_frames", "participant": "bob", "fps": 15})
    assert seen.allowed
    return meeting


def test_stopping_a_required_camera_starts_its_grace_and_then_sends_back() -> None:
    meeting = _bob_with_working_camera()
    stopped = meeting.event({"type": "publish_stopped", "participant": "bob", "source": "camera"})
    assert not stopped.allowed
    assert stopped.reason.value == "camera_lost"
    assert "camera" not in meeting.state.participants["bob"].open_gates
    meeting.clock(10)
    bob = meeting.state.participants["bob"]
    assert not bob.admitted
    assert (bob.waiting_reason, bob.waiting_rule) == ("camera_still_lost", "/entry/camera/on_lost")


def test_a_newcomer_waits_for_the_host() -> None:
    meeting = Meeting({})
    meeting.join("bob", "Bob Smith")
    assert meeting.state.participants["bob"].waiting_reason == "waiting_for_host"


def test_someone_sent_back_waits_from_the_moment_they_were_sent_back() -> None:
    meeting = _bob_with_working_camera()
    joined = meeting.state.participants["bob"].joined_at
    meeting.clock(4)
    meeting.event({"type": "publish_stopped", "participant": "bob", "source": "camera"})
    meeting.clock(10)  # the grace (3 seconds from 4) has run out: Bob waits again
    bob = meeting.state.participants["bob"]
    assert not bob.admitted
    assert bob.joined_at == joined
    assert bob.waiting_since == 7


def test_a_newcomer_waits_from_the_join() -> None:
    meeting = Meeting({})
    meeting.clock(2)
    meeting.join("bob", "Bob Smith")
    assert meeting.state.participants["bob"].waiting_since == 2
