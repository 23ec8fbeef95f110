"""Joining, as the engine decides it: what a join is told, and in which order."""

from __future__ import annotations

from meetwarden.policies.testing import Meeting, expect

PROTECTED = {"entry": {"password": True}}


def test_without_the_password_a_banned_person_is_told_only_that_it_is_needed() -> None:
    """A banned name would otherwise learn, without the password, that the meeting exists."""
    meeting = Meeting(PROTECTED)
    meeting.join("h", "Alice Host", role="host")
    meeting.join("bob", "Bob Smith", password_ok=True, identities=["device:1", "name:bob smith"])
    meeting.event({"type": "ban", "actor": "h", "participant": "bob"})
    again = {"name": "Bob Smith", "identities": ["device:2", "name:bob smith"]}
    expect(meeting.join("b2", **again), allowed=False, reason="password_required")
    expect(meeting.join("b3", password_ok=False, **again), reason="wrong_password")
    expect(meeting.join("b4", password_ok=True, **again), allowed=False, reason="banned")


def test_a_name_is_compared_with_the_hosts_and_cohosts_of_the_moment() -> None:
    """Who is protected from look-alikes follows promotions, demotions and departures."""
    meeting = Meeting({})
    meeting.join("h", "Alice Host", role="host")
    meeting.join("bob", "Bob Smith")
    meeting.event({"type": "admit", "actor": "h", "participant": "bob"})
    expect(meeting.join("x1", "bob  SMITH"), allowed=True)  # Bob is not a host yet
    meeting.event({"type": "set_role", "actor": "h", "participant": "bob", "role": "cohost"})
    expect(meeting.join("x2", "bob  SMITH"), allowed=False, reason="name_lookalike")
    expect(meeting.join("x3", "ALICE host"), allowed=False, reason="name_lookalike")
    meeting.event({"type": "set_role", "actor": "h", "participant": "bob", "role": "participant"})
    expect(meeting.join("x4", "bob  SMITH"), allowed=True)
    meeting.event({"type": "set_role", "actor": "h", "participant": "bob", "role": "cohost"})
    meeting.event({"type": "left", "participant": "bob"})
    expect(meeting.join("x5", "bob  SMITH"), allowed=True)  # gone, no longer protected
    expect(meeting.join("x6", "ALICE host"), allowed=False, reason="name_lookalike")
