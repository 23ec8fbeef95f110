"""A grant ends with its share (``screen_share.grant_ends_with_share``), and only with
its own share.

A host may end a share (revoke) and grant a new one at once, while the old
share's track is still on its way out of the sharer's browser: the server sees
that track go later (``publish_stopped`` by ``media``). That is the end of a
share that had ended already, and the new grant stays. A participant who says it
stops (``stop_share``) gives its grant up, whether its screen was sent or not
(Cancel in the preview).
"""

from __future__ import annotations

from meetwarden.policies.testing import Meeting, expect

POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "screen_share": {"allowed": "with_grant", "grant_ends_with_share": True},
}
SCREEN = {
    "type": "publish_requested",
    "participant": "bob",
    "source": "screen",
    "surface": "window",
}
GRANT = {"type": "grant", "actor": "h", "participant": "bob", "kind": "screen", "minutes": 5}
REVOKE = {"type": "revoke", "actor": "h", "participant": "bob", "kind": "screen"}


def sharing() -> Meeting:
    meeting = Meeting(POLICY)
    meeting.join("h", "Alice Host", role="host")
    meeting.join("bob", "Bob Smith")
    expect(meeting.event(GRANT), allowed=True)
    expect(meeting.event(SCREEN), allowed=True)
    expect(meeting.event({"type": "share_confirmed", "participant": "bob"}), allowed=True)
    return meeting


def grant_of(meeting: Meeting) -> object:
    bob = meeting.state.get("bob")
    assert bob is not None
    return bob.grant("screen")


def test_the_old_shares_track_going_late_leaves_a_grant_given_since() -> None:
    meeting = sharing()
    expect(meeting.event(REVOKE), allowed=True, reason="revoked")
    expect(meeting.event(GRANT), allowed=True)
    late = meeting.event(
        {"type": "publish_stopped", "participant": "bob", "source": "screen", "by": "media"}
    )
    expect(late, allowed=True, reason="publish_stopped", rule="/screen_share/grant_ends_with_share")
    assert late.effects == ()
    assert grant_of(meeting) is not None
    expect(meeting.event(SCREEN), allowed=True, reason="share_awaiting_confirmation")


def test_the_track_of_a_running_share_going_ends_the_share_and_its_grant() -> None:
    meeting = sharing()
    ended = meeting.event(
        {"type": "publish_stopped", "participant": "bob", "source": "screen", "by": "media"}
    )
    expect(ended, allowed=True, reason="publish_stopped")
    assert grant_of(meeting) is None
    expect(meeting.event(SCREEN), allowed=False, reason="share_needs_grant")


def test_stopping_before_anything_was_sent_gives_the_grant_up() -> None:
    meeting = Meeting(POLICY)
    meeting.join("h", "Alice Host", role="host")
    meeting.join("bob", "Bob Smith")
    meeting.event(GRANT)
    cancelled = meeting.event({"type": "publish_stopped", "participant": "bob", "source": "screen"})
    expect(cancelled, allowed=True, reason="publish_stopped")
    assert grant_of(meeting) is None
