"""aiortc's and aioice's lines reach the server's log, and nothing a stranger sends floods it."""

from __future__ import annotations

import logging
import subprocess
import sys

from meetwarden.server.media.log_limits import LogLimiter

_SERVER_WITHOUT_LOGGING_SET_UP = """
import logging
from meetwarden.server.media import MediaPlane
MediaPlane()
logging.getLogger("aiortc.rtcdtlstransport").warning("the DTLS transport closed")
for _ in range(1000):
    logging.getLogger("aioice.ice").warning("Connection(%s) a line per packet", 7)
logging.getLogger("aioice.ice").info("Connection(7) a line per ICE check")
"""


def test_library_warnings_reach_the_log_of_a_server_that_set_up_no_logging() -> None:
    """As ``meetwarden serve`` runs: nothing configures logging beyond uvicorn's loggers,
    so Python's last-resort handler writes warnings to stderr, except from a logger that
    has a handler of its own (aiortc's and aioice's NullHandler)."""
    result = subprocess.run(
        [sys.executable, "-c", _SERVER_WITHOUT_LOGGING_SET_UP],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stderr.splitlines()
    assert "the DTLS transport closed" in lines
    per_packet = [line for line in lines if "a line per packet" in line]
    assert 1 <= len(per_packet) <= 10  # 1,000 of them were logged
    assert not any("per ICE check" in line for line in lines)  # INFO: below the level


def test_a_kind_of_line_is_written_in_bursts_then_now_and_then_with_a_count() -> None:
    now = [0.0]
    limiter = LogLimiter(burst=3, interval=10.0, clock=lambda: now[0])
    assert [limiter.allow("srtp") for _ in range(5)] == [0, 0, 0, None, None]
    assert limiter.allow("stun") == 0  # another kind has its own budget
    now[0] = 10.0
    assert limiter.allow("srtp") == 2  # the two left out are counted on the next line
    assert limiter.allow("srtp") is None


def test_the_limiter_forgets_the_oldest_kind_beyond_its_bound() -> None:
    limiter = LogLimiter(burst=1, interval=60.0, max_kinds=100)
    for kind in range(10_000):
        limiter.allow(kind)
    assert len(limiter._kinds) == 100


def test_a_limited_line_says_how_many_were_left_out() -> None:
    now = [0.0]
    limiter = LogLimiter(burst=1, interval=1.0, clock=lambda: now[0])
    logger = logging.getLogger("meetwarden.server.media.test")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger.addHandler(handler)
    try:
        for _ in range(4):
            limiter.log(logger, logging.WARNING, "kind", "dropped %d bytes", 1501)
        now[0] = 1.0
        limiter.log(logger, logging.WARNING, "kind", "dropped %d bytes", 1501)
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == [
        "dropped 1501 bytes",
        "dropped 1501 bytes (3 more like this left out)",
    ]
