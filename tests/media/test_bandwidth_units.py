"""One subscriber's bandwidth estimate, report by report, on a clock the test turns.

Each interval feeds the report block a receiver would send after ``packets``
packets of which ``lost`` never arrived, and the octets the server sent meanwhile.
"""

from __future__ import annotations

from meetwarden.server.media.bandwidth import (
    CEILING,
    FIRST_RECOVERY_BACKOFF,
    FLOOR,
    MIN_PACKETS,
    RECOVER_AFTER,
    RECOVERY_TRIAL,
    REMB_FRESH_SECONDS,
    BandwidthEstimate,
)

SSRC = 0x1234


class Link:
    """A subscriber whose receiver reports the test writes."""

    def __init__(self) -> None:
        self.estimate = BandwidthEstimate()
        self.now = 100.0
        self.highest = 1000
        self.lost = 0
        self.sent = 0
        self.estimate.on_report_block(SSRC, self.highest, self.lost)
        self.estimate.update(self.now, self.sent)

    def interval(self, packets: int, lost: int, bitrate: int, seconds: float = 1.0) -> bool:
        self.now += seconds
        self.highest += packets
        self.lost += lost
        self.sent += int(bitrate * seconds / 8)
        self.estimate.on_report_block(SSRC, self.highest, self.lost)
        return self.estimate.update(self.now, self.sent)


def test_no_loss_means_no_limit() -> None:
    link = Link()
    for _ in range(5):
        assert link.interval(100, 0, 1_000_000)
    assert link.estimate.available_bitrate() is None


def test_loss_between_two_and_ten_percent_sets_no_limit_and_holds_one() -> None:
    link = Link()
    link.interval(100, 5, 1_000_000)
    assert link.estimate.available_bitrate() is None
    link.interval(100, 40, 1_000_000)
    limit = link.estimate.available_bitrate()
    assert limit is not None
    link.interval(100, 40, 1_000_000)  # settling after the decrease
    assert link.estimate.available_bitrate() == limit
    for _ in range(3):
        link.interval(100, 5, 1_000_000)
        assert link.estimate.available_bitrate() == limit


def test_high_loss_starts_a_limit_from_the_rate_sent() -> None:
    link = Link()
    link.interval(100, 40, 1_000_000)  # 40 % lost: 1 - 0.5 * 0.4 = 0.8 of what was sent
    assert link.estimate.available_bitrate() == 800_000
    link.interval(100, 40, 64_000)  # the packets sent before anyone slowed down: held
    assert link.estimate.available_bitrate() == 800_000
    link.interval(100, 40, 64_000)  # from the limit, not the rate sent, once there is one
    assert link.estimate.available_bitrate() == 640_000
    assert link.estimate.decreases == 2


def test_low_loss_grows_the_limit_by_five_percent_per_interval_until_it_is_dropped() -> None:
    link = Link()
    link.interval(100, 40, 1_000_000)
    link.interval(100, 1, 64_000)  # 1 % lost: grows even while settling
    assert link.estimate.available_bitrate() == 800_000 * 105 // 100 + 1_000
    for _ in range(200):
        link.interval(100, 0, 64_000)
        if link.estimate.available_bitrate() is None:
            break
    assert link.estimate.available_bitrate() is None  # grew past the ceiling


def test_once_the_loss_is_gone_the_limit_goes_back_to_what_the_link_carried() -> None:
    """A second of loss (a device that dropped packets) costs two seconds, not the half
    minute that growing 5 % a second from 60 % of the rate would take."""
    link = Link()
    for bitrate in (900_000, 1_000_000, 950_000):
        link.interval(100, 0, bitrate)
    link.interval(100, 60, 1_000_000)  # 60 % lost: 700 kbit/s
    assert link.estimate.available_bitrate() == 700_000
    link.interval(100, 0, 100_000)  # the video paused: only audio for a while
    assert link.estimate.available_bitrate() == 700_000 * 105 // 100 + 1_000
    assert not link.estimate.recovered
    link.interval(100, 0, 100_000)
    assert RECOVER_AFTER == 2
    assert link.estimate.available_bitrate() == 1_000_000  # the most it carried before
    assert link.estimate.recovered
    assert link.estimate.recoveries == 1
    # What grows into the limit (a simulcast layer, a publisher's rate) does not jump.
    steady = link.estimate.steady_limit
    assert steady is not None
    assert abs(steady - ((700_000 * 1.05 + 1_000) * 1.05 + 1_000)) <= 1
    for _ in range(int(RECOVERY_TRIAL)):
        link.interval(100, 0, 1_000_000)
    assert not link.estimate.recovered  # it held: a limit like any other again


def test_a_mild_decrease_that_regrew_past_what_the_link_carried_is_a_recovery_too() -> None:
    """A loss that began just before an interval ended: a decrease of a few percent, and
    5 % a second takes the limit past the rate carried before the recovery is due. It is
    still a recovery: a stream paused meanwhile resumes on it, not 25 % above its rate
    (``RESUME_MARGIN``) after seconds more of growth."""
    link = Link()
    for bitrate in (660_000, 677_000, 650_000):
        link.interval(100, 0, bitrate)
    link.interval(100, 12, 666_000)  # 12 % lost: 626 kbit/s
    link.interval(100, 19, 100_000)  # sent before the decrease took effect: no second one
    link.interval(100, 0, 100_000)
    assert not link.estimate.recovered
    link.interval(100, 0, 100_000)
    limit = link.estimate.available_bitrate()
    assert limit is not None
    assert limit > 677_000  # grown past the most it carried before
    assert link.estimate.recovered
    assert link.estimate.recoveries == 1


def test_a_recovery_the_link_cannot_carry_makes_the_next_wait() -> None:
    """A link that really is slower now: the recovery fails, and until
    ``FIRST_RECOVERY_BACKOFF`` has passed the limit only grows 5 % a second."""
    link = Link()
    link.interval(100, 0, 1_000_000)
    link.interval(100, 40, 1_000_000)
    link.interval(100, 0, 100_000)
    link.interval(100, 0, 100_000)
    assert link.estimate.available_bitrate() == 1_000_000
    link.interval(100, 40, 1_000_000)  # the recovered rate is lost again: it failed
    failed_at = link.now
    assert not link.estimate.recovered
    limit = link.estimate.available_bitrate()
    assert limit == 800_000
    link.interval(100, 0, 100_000)
    link.interval(100, 0, 1_000_000)  # carried, and clean: remembered
    link.interval(100, 40, 1_000_000)  # a new loss inside the wait: no recovery to come
    limit = link.estimate.available_bitrate()
    assert limit is not None
    while link.now < failed_at + FIRST_RECOVERY_BACKOFF - 1:
        link.interval(100, 0, 100_000)
        grown = link.estimate.available_bitrate()
        assert grown is not None
        assert abs(grown - (limit * 1.05 + 1_000)) <= 1  # 5 % a second, no recovery
        limit = grown
    assert link.estimate.recoveries == 1
    # After the wait, a loss may be recovered from again.
    link.interval(100, 0, 3_000_000)
    link.interval(100, 40, 3_000_000)
    link.interval(100, 0, 100_000)
    link.interval(100, 0, 100_000)
    assert link.estimate.recoveries == 2
    assert link.estimate.recovered


def test_at_most_one_update_per_interval_and_only_on_enough_packets() -> None:
    link = Link()
    assert not link.interval(100, 60, 1_000_000, seconds=0.4)
    assert link.estimate.available_bitrate() is None
    assert link.interval(10, 0, 1_000_000, seconds=0.6)  # counted over both reports
    assert link.estimate.last_loss == 60 / 110
    assert not link.interval(MIN_PACKETS - 1, 10, 64_000)
    assert link.interval(1, 0, 64_000)  # the packets of both intervals count


def test_repaired_losses_count_as_received() -> None:
    """Retransmissions on the same SSRC lower the cumulative number lost (RFC 3550 6.4.1)."""
    link = Link()
    assert not link.interval(100, 12, 1_000_000, seconds=0.5)  # 12 % lost at one report
    assert link.interval(100, -10, 1_000_000, seconds=0.5)  # most repaired by the next one
    assert link.lost == 2
    assert link.estimate.available_bitrate() is None
    assert link.estimate.decreases == 0


def test_a_negative_number_lost_is_read_signed_or_raw() -> None:
    for lost in (-3, -3 & 0xFFFFFF):
        estimate = BandwidthEstimate()
        estimate.on_report_block(1, 100, 0)
        estimate.on_report_block(1, 200, lost)
        estimate.update(0.0, 0)
        assert not estimate.update(0.5, 0)
        estimate.on_report_block(1, 300, 30)
        assert estimate.update(1.0, 0)
        assert estimate.last_loss == 0.15


def test_several_streams_are_summed() -> None:
    estimate = BandwidthEstimate()
    estimate.on_report_block(1, 100, 0)
    estimate.on_report_block(2, 500, 0)
    estimate.update(0.0, 0)
    estimate.on_report_block(1, 150, 0)  # audio: 50 packets, none lost
    estimate.on_report_block(2, 550, 20)  # video: 50 packets, 20 lost
    assert estimate.update(1.0, 100_000)
    assert estimate.last_loss == 0.2
    assert estimate.available_bitrate() == 720_000


def test_a_forgotten_stream_starts_afresh() -> None:
    estimate = BandwidthEstimate()
    estimate.on_report_block(1, 100, 0)
    estimate.forget(1)
    estimate.on_report_block(1, 90_000, 50_000)  # not a 89,900-packet interval
    estimate.update(0.0, 0)
    assert not estimate.update(1.0, 0)


def test_an_old_report_is_ignored() -> None:
    estimate = BandwidthEstimate()
    estimate.on_report_block(1, 1000, 0)
    estimate.on_report_block(1, 900, 0)
    estimate.update(0.0, 0)
    assert not estimate.update(1.0, 0)


def test_remb_counts_while_fresh_and_packets_are_lost_and_the_smaller_one_wins() -> None:
    link = Link()
    link.estimate.on_remb(300_000, link.now)
    assert link.estimate.available_bitrate() is None, "nothing lost: a slow reader, not a link"
    link.interval(100, 5, 1_000_000)  # 5 % lost: no loss-based limit yet, the REMB counts
    assert link.estimate.available_bitrate() == 300_000
    link.estimate.on_remb(2_000_000, link.now)
    link.interval(100, 40, 1_000_000)
    assert link.estimate.available_bitrate() == 800_000
    link.estimate.on_remb(400_000, link.now)
    assert link.estimate.available_bitrate() == 400_000
    link.interval(100, 5, 300_000, seconds=REMB_FRESH_SECONDS + 0.5)
    assert link.estimate.available_bitrate() == 800_000, "stale"


def test_estimates_are_clamped() -> None:
    link = Link()
    link.interval(100, 5, 1_000_000)
    link.estimate.on_remb(10, link.now)
    assert link.estimate.available_bitrate() == FLOOR
    link.estimate.on_remb(10**12, link.now)
    assert link.estimate.available_bitrate() == CEILING
    link = Link()
    link.interval(100, 100, 10_000)
    assert link.estimate.available_bitrate() == FLOOR
    link.interval(100, 100, 10_000)
    link.interval(100, 100, 10_000)
    assert link.estimate.available_bitrate() == FLOOR
    assert link.estimate.decreases == 2
