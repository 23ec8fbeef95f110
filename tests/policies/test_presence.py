"""A dropped connection keeps the person's place; a resume gives back the meeting's
current state for them (the four ways through that a resume token once opened)."""

from __future__ import annotations

from meetwarden.policies.testing import Meeting

HOST = {"role": "host"}


def _meeting(policy: dict[str, object]) -> Meeting:
    meeting = Meeting(policy)
    meeting.join("h", "Alice Host", **HOST)
    return meeting


def _admitted(meeting: Meeting, pid: str, name: str, **facts: object) -> None:
    meeting.join(pid, name, **facts)
    if not meeting.state.participants[pid].admitted:
        assert meeting.event({"type": "admit", "actor": "h", "participant": pid}).allowed


def _drop_and_resume(meeting: Meeting, pid: str) -> None:
    assert meeting.event({"type": "disconnected", "participant": pid}).allowed
    assert meeting.event({"type": "resumed", "participant": pid}).allowed


def test_a_host_mute_survives_a_resume() -> None:
    meeting = _meeting({"audio": {"mute_on_entry": False, "unmute": "host_only"}})
    _admitted(meeting, "bob", "Bob Smith")
    assert not meeting.state.participants["bob"].muted
    meeting.event({"type": "mute", "actor": "h", "participant": "bob"})
    _drop_and_resume(meeting, "bob")
    assert meeting.state.participants["bob"].muted
    refused = meeting.event({"type": "unmute_requested", "participant": "bob"})
    assert refused.reason.value == "unmute_host_only"


def test_a_demotion_survives_a_resume() -> None:
    meeting = _meeting({})
    _admitted(meeting, "c", "Carol Jones", role="cohost", invited=True)
    meeting.event({"type": "set_role", "actor": "h", "participant": "c", "role": "participant"})
    _drop_and_resume(meeting, "c")
    assert meeting.state.participants["c"].role == "participant"
    lock = meeting.event({"type": "lock", "actor": "c", "locked": True})
    assert lock.reason.value == "not_a_host"


def test_someone_sent_back_to_the_waiting_room_resumes_waiting() -> None:
    camera = {"required": True, "check_seconds": 5, "on_missing": "waiting_room"}
    meeting = _meeting({"entry": {"waiting_room": {"enabled": False}, "camera": camera}})
    _admitted(meeting, "bob", "Bob Smith")
    meeting.clock(5)
    assert not meeting.state.participants["bob"].admitted
    _drop_and_resume(meeting, "bob")
    assert not meeting.state.participants["bob"].admitted


def test_a_host_may_act_on_someone_away_and_the_resume_sees_it() -> None:
    meeting = _meeting({"audio": {"mute_on_entry": False}})
    _admitted(meeting, "bob", "Bob Smith")
    meeting.event({"type": "disconnected", "participant": "bob"})
    assert meeting.event({"type": "remove", "actor": "h", "participant": "bob"}).allowed
    gone = meeting.event({"type": "resumed", "participant": "bob"})
    assert not gone.allowed
    assert gone.reason.value == "unknown_participant"


def test_someone_away_cannot_act_or_publish() -> None:
    meeting = _meeting({"audio": {"mute_on_entry": False}})
    _admitted(meeting, "bob", "Bob Smith")
    meeting.event({"type": "disconnected", "participant": "bob"})
    publish = {"type": "publish_requested", "participant": "bob", "source": "microphone"}
    assert meeting.event(publish).reason.value == "disconnected"


def test_the_place_is_given_up_after_reconnect_seconds() -> None:
    meeting = _meeting({"entry": {"reconnect_seconds": 30}})
    _admitted(meeting, "bob", "Bob Smith")
    meeting.event({"type": "disconnected", "participant": "bob", "at": 10})
    meeting.clock(39)
    assert "bob" in meeting.state.participants
    meeting.clock(40)
    assert "bob" not in meeting.state.participants


def test_a_working_camera_must_show_working_video_again_after_a_resume() -> None:
    camera = {"required": True, "check_seconds": 10}
    meeting = _meeting({"entry": {"waiting_room": {"enabled": False}, "camera": camera}})
    _admitted(meeting, "bob", "Bob Smith")
    meeting.event({"type": "camera_frames", "participant": "bob", "fps": 30.0})
    assert meeting.state.participants["bob"].camera == "ok"
    meeting.event({"type": "disconnected", "participant": "bob", "at": 20})
    meeting.event({"type": "resumed", "participant": "bob", "at": 25})
    assert meeting.state.participants["bob"].camera == "pending"
    meeting.clock(35)
    assert not meeting.state.participants["bob"].admitted  # on_missing: waiting_room
