"""The socket count shared by the workers: the front's book and two workers' halves,
talking over real channel pairs (server/workers/handoff.py) in one event loop.

The end-to-end case (two worker processes, sockets from one address) is in
test_workers.py; these are the orders of messages that test cannot force: a socket
claimed while the front evicts it, a socket whose asker is gone, a front that goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from support.counting import until
from support.worker_channels import wired

from meetwarden.server.socket_slots import SocketSlot
from meetwarden.server.workers import shared_slots
from meetwarden.server.workers.address_book import AddressBook
from meetwarden.server.workers.handoff import OPEN, Channel
from meetwarden.server.workers.shared_slots import SharedSlots

pytestmark = pytest.mark.anyio
CROWD = "127.0.9.7"


@dataclass
class Pair:
    book: AddressBook
    workers: list[SharedSlots]
    fronts: list[Channel]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    """Two workers' halves and the front's book, with a cap of two sockets per address."""
    with wired(lambda post: AddressBook(2, post), SharedSlots) as (book, workers, fronts):
        yield Pair(book, workers, fronts)


async def test_the_cap_holds_across_workers_and_the_oldest_idle_socket_gives_way(
    pair: Pair,
) -> None:
    idle = await pair.workers[0].open(CROWD)
    joined = await pair.workers[1].open(CROWD)
    assert idle is not None
    assert joined is not None
    assert joined.claim()
    newer = await pair.workers[1].open(CROWD)  # at the cap: the idle one, elsewhere, goes
    assert newer is not None
    await until(lambda: idle.evicted, within=5, what="the idle socket on worker 0 evicted")
    assert newer.claim()
    assert await pair.workers[0].open(CROWD) is None  # two joined: refused, on either worker
    assert await pair.workers[0].open("127.0.9.8") is not None  # another address gets in
    pair.workers[1].close(CROWD, joined)
    assert await pair.workers[0].open(CROWD) is not None  # one closed: room again


async def test_a_socket_claimed_as_the_front_evicts_it_stays_and_is_counted(
    pair: Pair,
) -> None:
    idle = await pair.workers[0].open(CROWD)
    other = await pair.workers[0].open(CROWD)
    assert idle is not None
    assert other is not None
    # Worker 1 asks for a third socket; the front evicts the idle one, whose join arrives
    # at worker 0 before the eviction does (it is claimed right after the front decided).
    decide = pair.book.message

    def decided_then_claimed(worker: int, message: bytes) -> None:
        decide(worker, message)
        if message[:1] == OPEN:
            assert idle.claim()

    pair.book.message = decided_then_claimed  # type: ignore[method-assign]
    third = await pair.workers[1].open(CROWD)
    assert third is not None
    await until(lambda: pair.book.count(CROWD) == 3, within=5, what="the claimed one counted")
    assert not idle.evicted  # the person who began to join keeps the socket
    assert other.claim()
    assert third.claim()
    assert await pair.workers[1].open(CROWD) is None  # over the cap until one goes
    pair.workers[0].close(CROWD, idle)
    await until(lambda: pair.book.count(CROWD) == 2, within=5, what="the close counted")


async def test_a_socket_whose_asker_left_is_not_counted(pair: Pair) -> None:
    asking = asyncio.ensure_future(pair.workers[0].open(CROWD))
    # One turn: the task posts its ask and waits; the front has not read it yet (its
    # reader runs on a later turn), so the cancel comes before any answer.
    await asyncio.sleep(0)
    asking.cancel()
    await until(lambda: pair.book.count(CROWD) == 0 and asking.done(), within=5)
    assert await pair.workers[0].open(CROWD) is not None
    assert await pair.workers[1].open(CROWD) is not None
    assert pair.book.count(CROWD) == 2


async def test_a_worker_that_ends_gives_its_sockets_back(pair: Pair) -> None:
    for _ in range(2):
        slot = await pair.workers[1].open(CROWD)
        assert slot is not None
        assert slot.claim()
    assert await pair.workers[0].open(CROWD) is None
    pair.book.forget(1)
    assert isinstance(await pair.workers[0].open(CROWD), SocketSlot)


async def test_a_socket_asked_for_when_the_front_is_gone_is_refused(pair: Pair) -> None:
    asking = asyncio.ensure_future(pair.workers[0].open(CROWD))
    pair.fronts[0].close()  # the front process ended: the worker is stopping
    assert await asyncio.wait_for(asking, 5) is None


async def test_a_socket_the_front_does_not_answer_for_is_refused_in_time(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_slots, "ANSWER_SECONDS", 0.2)
    loop = asyncio.get_running_loop()
    loop.remove_reader(pair.fronts[0].end.fileno())  # the front reads nothing (it hangs)
    assert await asyncio.wait_for(pair.workers[0].open(CROWD), 5) is None
    assert pair.book.count(CROWD) == 0
