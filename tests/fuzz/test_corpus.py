"""Every corpus input (seeds and every crash ever found) through its fuzz target.

A crash found by ``bench/fuzz.py`` is saved in ``corpus/<target>/`` and
replayed here from then on: the fix stays fixed. A short hypothesis run per
target checks the harness itself (fixed seed, a few dozen inputs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from meetwarden.server.media.aiortc_seam import restrict_host_addresses

from .harness import Harness, LoopErrors, Target, load_corpus, run_checked
from .targets import TARGETS

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    restrict_host_addresses(["127.0.0.1"])
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


class _Running:
    def __init__(self, loop: asyncio.AbstractEventLoop, target: Target[Any]) -> None:
        self.loop = loop
        self.errors = LoopErrors(loop)
        self.harness: Harness[Any] = loop.run_until_complete(target.setup())

    def run(self, data: Any) -> None:
        self.loop.run_until_complete(run_checked(self.harness, data, self.errors))

    def close(self) -> None:
        self.loop.run_until_complete(self.harness.close())


@pytest.fixture(params=sorted(TARGETS))
def running(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    target = TARGETS[request.param]
    asyncio.set_event_loop(loop)
    running = _Running(loop, target)
    yield target, running
    running.close()
    asyncio.set_event_loop(None)


def test_every_target_has_a_seed_corpus() -> None:
    for target in TARGETS.values():
        names = [name for name, _ in load_corpus(target)]
        assert any("/seed-" in name for name in names), target.name


def test_the_corpus_replays_without_a_crash(running: tuple[Target[Any], _Running]) -> None:
    target, harness = running
    for name, data in load_corpus(target):
        try:
            harness.run(data)
        except Exception as error:
            raise AssertionError(f"{name}: {error}") from error


def test_a_few_generated_inputs_run_without_a_crash(running: tuple[Target[Any], _Running]) -> None:
    target, harness = running
    corpus = [data for _, data in load_corpus(target)]

    @settings(
        max_examples=5 if target.slow else 40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy(corpus))
    def one(data: Any) -> None:
        harness.run(data)

    one()
