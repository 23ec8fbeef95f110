"""The NACK budget alone: a burst, the rate it grows back at, and one resend per packet."""

from __future__ import annotations

from meetwarden.server.media.nack_budget import BURST, RATE, REPEAT, NackBudget


def test_a_nack_naming_a_thousand_packets_gets_a_burst_then_the_rate() -> None:
    budget = NackBudget()
    storm = list(range(1000))
    assert len(budget.allow(storm, 0.0)) == BURST
    assert budget.allow(list(range(1000, 2000)), 0.0) == []  # nothing left at once
    later = budget.allow(list(range(2000, 3000)), 0.5)
    assert len(later) == int(0.5 * RATE)
    assert budget.refused == 3000 - BURST - len(later)


def test_an_honest_nack_is_answered_and_the_same_packet_not_twice_at_once() -> None:
    budget = NackBudget()
    assert budget.allow([7, 7, 8], 1.0) == [7, 8]
    assert budget.allow([7], 1.0 + REPEAT / 2) == []  # crossed its retransmission
    assert budget.allow([7], 1.0 + REPEAT) == [7]  # lost again: asked again, resent


def test_the_budget_never_grows_past_its_burst() -> None:
    budget = NackBudget()
    budget.allow([1], 0.0)
    assert len(budget.allow(list(range(10, 2000)), 3600.0)) == BURST
