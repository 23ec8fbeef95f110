"""The front process's book and workers' halves of something they count together
(sockets, guessing budgets), talking over real channel pairs in one event loop
(server/workers/handoff.py): what the workers' unit tests wire up."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from meetwarden.server.workers.handoff import Channel, channel_pair

__all__ = ["Book", "Half", "wired"]


class Book(Protocol):
    def message(self, worker: int, message: bytes) -> None: ...


class Half(Protocol):
    def message(self, message: bytes) -> None: ...

    def front_gone(self) -> None: ...


B = TypeVar("B", bound=Book)
H = TypeVar("H", bound=Half)


@contextlib.contextmanager
def wired(
    book: Callable[[Callable[[int, bytes], None]], B],
    half: Callable[[Channel], H],
    workers: int = 2,
) -> Iterator[tuple[B, list[H], list[Channel]]]:
    """(the front's book, each worker's half, the front's end of each channel); the
    book posts to a worker's channel, each half hears its own. Closed at the end."""
    fronts: list[Channel] = []
    ends: list[Channel] = []
    made = book(lambda worker, message: fronts[worker].post(message))
    halves: list[H] = []
    for index in range(workers):
        front_end, worker_end = channel_pair()
        front, end = Channel(front_end), Channel(worker_end)
        fronts.append(front)
        ends.append(end)
        front.listen(lambda kind, _fd, index=index: made.message(index, kind), lambda: None)
        each = half(end)
        end.listen(lambda kind, _fd, each=each: each.message(kind), each.front_gone)
        halves.append(each)
    try:
        yield made, halves, fronts
    finally:
        for channel in (*fronts, *ends):
            channel.close()
