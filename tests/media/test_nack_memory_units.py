"""What a subscriber still misses, from its NACKs alone: a hole remembered after it leaves
the receiver's window, forgotten once a NACK shows it filled or it is too old to matter."""

from __future__ import annotations

from meetwarden.server.media.nack_memory import WAITED_FOR, MissingPackets


def test_a_hole_the_receiver_stopped_naming_is_still_missing() -> None:
    missing = MissingPackets()
    missing.named([100], newest_sent=110)
    # 200 packets later the receiver's window (NAMED_WINDOW) has passed the hole.
    missing.named([305], newest_sent=310)
    assert missing.still_missing(newest_sent=320) == [100, 305]


def test_a_hole_a_later_nack_leaves_out_within_the_window_arrived() -> None:
    missing = MissingPackets()
    missing.named([100, 101], newest_sent=110)
    missing.named([101, 130], newest_sent=140)  # 100 was resent and arrived
    assert missing.still_missing(newest_sent=140) == [101, 130]


def test_holes_further_back_than_the_receiver_waits_are_given_up() -> None:
    missing = MissingPackets()
    missing.named([10], newest_sent=20)
    assert missing.still_missing(newest_sent=10 + WAITED_FOR) == []
    missing.named([600], newest_sent=10 + WAITED_FOR + 100)
    assert missing.still_missing(newest_sent=700) == [600]


def test_the_oldest_hole_comes_first_across_the_wrap() -> None:
    missing = MissingPackets()
    missing.named([65_530, 65_535, 3], newest_sent=5)
    assert missing.still_missing(newest_sent=5) == [65_530, 65_535, 3]


def test_a_nack_naming_every_number_is_remembered_within_what_is_waited_for() -> None:
    """A hostile NACK names the whole sequence space: memory stays bounded, and what was
    never sent (ahead of the newest) is not remembered."""
    missing = MissingPackets()
    missing.named(list(range(65_536)), newest_sent=1_000)
    assert len(missing.still_missing(newest_sent=1_000)) == WAITED_FOR
    assert max(missing.still_missing(newest_sent=1_000)) == 1_000
