"""A bot keeps working when a newer server adds message types and fields."""

from __future__ import annotations

import json
import logging

import pytest

from meetwarden import protocol as wire
from meetwarden.client_sdk.reading import read_server_message


def _admitted(**extra_in_roster: object) -> dict[str, object]:
    you = wire.SelfState(
        participant_id="p1",
        name="Ann Lee",
        role="participant",
        muted=True,
        may_unmute=False,
        hand_raised=False,
    )
    message = wire.Admitted(
        meeting=wire.MeetingInfo(meeting_id="m", name="", locked=False, policy_revision=1),
        you=you,
        roster=[
            wire.RosterEntry(
                id="p1", name="Ann Lee", role="participant", muted=True, hand_raised=False
            )
        ],
        resume_token="t",
        reason="admitted",
        message="You are in the meeting.",
    )
    value = json.loads(wire.encode(message))
    value["roster"][0].update(extra_in_roster)
    return value


def test_an_unknown_message_type_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="meetwarden.client"):
        assert read_server_message('{"type": "hologram", "x": 1}') is None
    assert "hologram" in caplog.text


def test_unknown_fields_at_any_depth_are_dropped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = _admitted(sparkles=3)
    value["mood"] = "festive"
    value["you"]["aura"] = "blue"
    with caplog.at_level(logging.INFO, logger="meetwarden.client"):
        message = read_server_message(json.dumps(value))
    assert isinstance(message, wire.Admitted)
    assert message.roster[0].name == "Ann Lee"
    for name in ("admitted.mood", "admitted.you.aura", "admitted.roster.sparkles"):
        assert name in caplog.text


def test_a_known_field_of_the_wrong_type_is_still_an_error() -> None:
    value = _admitted()
    value["you"]["muted"] = "yes"
    with pytest.raises(ValueError, match="muted"):
        read_server_message(json.dumps(value))
