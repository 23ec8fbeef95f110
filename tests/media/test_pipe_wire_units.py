"""The pipe's envelope and guard, without sockets: tags, addresses, replays, epochs, offers."""

from __future__ import annotations

import os

import pytest

from meetwarden.server.media.pipe_wire import (
    CONTROL,
    MEDIA,
    PipeGuard,
    PipeOffer,
    newer,
    read_control,
    seal,
    seal_control,
)

KEY = bytes(range(32))
A = ("10.0.0.1", 40000)


def test_an_authentic_datagram_opens_once() -> None:
    guard = PipeGuard(KEY, A)
    datagram = seal(KEY, MEDIA, 7, 1, b"rtp")
    assert guard.open(datagram, A) == (MEDIA, 7, b"rtp")
    assert guard.open(datagram, A) is None  # the same counter again: a replay
    assert (guard.taken, guard.replayed) == (1, 1)


def test_a_wrong_tag_or_address_is_dropped_and_counted() -> None:
    guard = PipeGuard(KEY, A)
    assert guard.open(seal(os.urandom(32), MEDIA, 0, 1, b"x"), A) is None
    tampered = bytearray(seal(KEY, MEDIA, 0, 2, b"x"))
    tampered[-20] ^= 1
    assert guard.open(bytes(tampered), A) is None
    assert guard.open(b"", A) is None
    assert guard.open(seal(KEY, MEDIA, 0, 3, b"x"), ("10.0.0.1", 40001)) is None
    assert guard.open(seal(KEY, MEDIA, 0, 4, b"x"), ("10.0.0.2", 40000)) is None
    assert (guard.forged, guard.foreign, guard.taken) == (3, 2, 0)


def test_the_port_is_latched_from_the_first_authentic_datagram() -> None:
    guard = PipeGuard(KEY, ("10.0.0.1", 0))
    assert guard.open(seal(os.urandom(32), MEDIA, 0, 1, b"x"), A) is None
    assert guard.peer == ("10.0.0.1", 0)  # a forged one latches nothing
    assert guard.open(seal(KEY, MEDIA, 0, 2, b"x"), A) is not None
    assert guard.open(seal(KEY, MEDIA, 0, 3, b"x"), ("10.0.0.1", 1)) is None
    assert guard.peer == A


def test_late_datagrams_are_taken_within_the_window_only() -> None:
    guard = PipeGuard(KEY, A)
    assert guard.open(seal(KEY, MEDIA, 0, 5000, b"x"), A) is not None
    assert guard.open(seal(KEY, MEDIA, 0, 4990, b"x"), A) is not None  # reordered: taken
    assert guard.open(seal(KEY, MEDIA, 0, 4990, b"x"), A) is None  # once
    assert guard.open(seal(KEY, MEDIA, 0, 3000, b"x"), A) is None  # too old to tell
    assert guard.replayed == 2


def test_epochs_compare_across_the_wrap() -> None:
    assert newer(1, 0)
    assert newer(0, 255)
    assert not newer(0, 0)
    assert not newer(255, 0)


def test_control_messages_round_trip() -> None:
    guard = PipeGuard(KEY, A)
    opened = guard.open(seal_control(KEY, 1, {"op": "keyframe", "stream": 3}), A)
    assert opened is not None
    kind, _, body = opened
    assert kind == CONTROL
    assert read_control(body) == {"op": "keyframe", "stream": 3}
    assert read_control(b"[1]") is None
    assert read_control(b"\xff") is None


def test_an_offer_travels_as_json() -> None:
    offer = PipeOffer.new("pipe-1", "10.0.0.2", 5000)
    assert PipeOffer.from_json(offer.to_json()) == offer
    assert len(offer.key) == 32
    for bad in ({"port": 0}, {"port": "5000"}, {"secret": "00"}, {"host": 1}):
        with pytest.raises(ValueError, match="pipe"):
            PipeOffer.from_json({**offer.to_json(), **bad})
