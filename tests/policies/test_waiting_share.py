"""The waiting room's share per source: one network cannot fill it for everyone else.

The server gives each join its ``source`` (a keyed hash of the joiner's IPv4
/24 or IPv6 /64); ``entry.waiting_room.max_share_per_source`` is the percent
of the waiting room's capacity (``entry.max_participants``) one source may
hold. The host's own people (invited, co-hosts, hosts) are never counted.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meetwarden.policies.rules.entry import source_share
from meetwarden.policies.testing import Meeting, expect
from meetwarden.server.i18n import decision_text

TEN = {"entry": {"max_participants": 10}}  # a quarter of 10: two places per network
NAMES = [f"{first} {last}" for first in ("Ann", "Ben", "Cai", "Dee") for last in ("Lee", "Moe")]


def crowd(meeting: Meeting, source: str, count: int, start: int = 0, **facts: Any) -> list[str]:
    reasons = []
    for number in range(start, start + count):
        decision = meeting.join(f"{source}-{number}", NAMES[number % 8], source=source, **facts)
        reasons.append(decision.reason.value)
    return reasons


def test_a_source_holding_its_share_is_refused_and_another_source_still_waits() -> None:
    meeting = Meeting(TEN)
    meeting.join("h", "Alice Host", role="host")
    assert (
        crowd(meeting, "net:bots", 5) == ["waiting_for_host"] * 2 + ["waiting_room_source_full"] * 3
    )
    refused = meeting.join("bot-x", "Zed Bot", source="net:bots")
    expect(refused, allowed=False, rule="/entry/waiting_room/max_share_per_source")
    assert decision_text(refused, "en") == (
        "Too many people from your network are waiting to join. Try again later."
    )
    guest = meeting.join("guest", "Gina Guest", source="net:home")
    expect(guest, allowed=True, reason="waiting_for_host")


def test_the_hosts_own_people_are_neither_counted_nor_refused() -> None:
    meeting = Meeting({"entry": {"max_participants": 10, "waiting_room": {"bypass": ["host"]}}})
    meeting.join("h", "Alice Host", role="host")
    assert crowd(meeting, "net:office", 3, invited=True) == ["waiting_for_host"] * 3
    assert crowd(meeting, "net:office", 2, start=3) == ["waiting_for_host"] * 2
    cohost = meeting.join("c", "Carol Cohost", role="cohost", invited=True, source="net:office")
    expect(cohost, allowed=True, reason="waiting_for_host")
    expect(
        meeting.join("x", "Xavi Stranger", source="net:office"), reason="waiting_room_source_full"
    )


def test_a_place_given_back_by_admission_or_leaving_may_be_taken_again() -> None:
    meeting = Meeting(TEN)
    meeting.join("h", "Alice Host", role="host")
    crowd(meeting, "net:a", 2)
    expect(meeting.join("late", "Lou Late", source="net:a"), reason="waiting_room_source_full")
    meeting.event({"type": "admit", "actor": "h", "participant": "net:a-0"})
    expect(meeting.join("late", "Lou Late", source="net:a"), reason="waiting_for_host")
    meeting.event({"type": "left", "participant": "net:a-1"})
    expect(meeting.join("later", "Lee Later", source="net:a"), reason="waiting_for_host")


def test_one_person_per_network_may_always_wait_and_100_percent_is_no_limit() -> None:
    small = Meeting({"entry": {"max_participants": 2}})  # a quarter of 2 rounds down to 0
    assert crowd(small, "net:a", 2) == ["waiting_for_host", "waiting_room_source_full"]
    whole = Meeting(
        {"entry": {"max_participants": 4, "waiting_room": {"max_share_per_source": 100}}}
    )
    assert crowd(whole, "net:a", 5) == ["waiting_for_host"] * 4 + ["waiting_room_full"]


def test_a_join_without_a_source_is_not_counted() -> None:
    """Replays of audit logs from before sources, and events made by hand."""
    meeting = Meeting({"entry": {"max_participants": 4}})
    for number in range(3):
        expect(meeting.join(f"p{number}", NAMES[number]), reason="waiting_for_host")


@settings(max_examples=150, deadline=None)
@given(
    capacity=st.integers(2, 12),
    share=st.integers(1, 100),
    arrivals=st.lists(
        st.tuples(st.sampled_from(["net:a", "net:b", "net:c"]), st.booleans(), st.booleans()),
        max_size=30,
    ),
)
def test_no_source_ever_holds_more_than_its_share(
    capacity: int, share: int, arrivals: list[tuple[str, bool, bool]]
) -> None:
    policy = {
        "entry": {"max_participants": capacity, "waiting_room": {"max_share_per_source": share}}
    }
    meeting = Meeting(policy)
    meeting.join("h", "Alice Host", role="host")
    for number, (source, invited, admit_first) in enumerate(arrivals):
        waiting = list(meeting.state.waiting())
        if admit_first and waiting:
            meeting.event({"type": "admit", "actor": "h", "participant": waiting[0].id})
        meeting.join(f"p{number}", NAMES[number % 8], source=source, invited=invited)
        for each in ("net:a", "net:b", "net:c"):
            counted = [
                p
                for p in meeting.state.waiting()
                if p.source == each and not p.invited and p.role == "participant"
            ]
            assert len(counted) <= source_share(meeting.policy)
        assert sum(1 for _ in meeting.state.waiting()) <= capacity
