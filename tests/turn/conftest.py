"""A real coturn and a real server that hands out its TURN servers.

The ``coturn`` fixture (which marks a test ``turn``, and so ``slow``) starts
the Debian package's turnserver on loopback; a module that needs it elsewhere
(on a firewalled host's gateway, tests/turn/test_turn_firewall.py) defines its
own ``coturn``. ``server`` is a ``meetwarden serve`` given that coturn's three
URLs (UDP, TCP, TLS) and its secret, as an operator would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.coturn import Coturn, start_coturn
from support.server import RunningServer

TTL = 600


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    running = start_coturn(tmp_path_factory.mktemp("coturn"))
    yield running
    running.stop()


def turn_server(
    data_dir: pytest.TempPathFactory, coturn: Coturn, host: str = "127.0.0.1"
) -> RunningServer:
    """A meetwarden server (not started) that gives clients this coturn."""
    urls = [arg for url in coturn.urls() for arg in ("--turn-url", url)]
    return RunningServer(
        data_dir.mktemp("server-data"),
        host=host,
        extra_args=[*urls, "--turn-ttl", str(TTL)],
        env={"MEETWARDEN_TURN_SECRET": coturn.secret},
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, coturn: Coturn) -> Iterator[RunningServer]:
    running = turn_server(tmp_path_factory, coturn).start()
    yield running
    running.stop()
