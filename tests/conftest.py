"""Markers for the slow groups, so that the fast tests run on their own in under a minute.

    .venv/bin/python -m pytest -m "not slow"          # or: make test-fast
    make test                                          # everything, as CI runs it

``make test`` runs the suite in two processes (a module at a time each, the browser
modules that count video one after another), then the tests marked ``alone`` (those
that measure media against a clock) by themselves.

A test is marked by where it is and what it needs: ``browser`` (real Chromium or
Firefox), ``media`` (real WebRTC peers), ``postgres`` (a real PostgreSQL server),
``redis`` (a real redis-server), ``clamd`` (a real clamd), ``turn`` (a real
coturn), ``server`` (a real server process over loopback: the server's and the
SDK's tests); each of them is also
``slow``. What is left, the engine, the store, files, the fuzz corpus and the
tools, is the fast group.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# A test server is one process unless its test asks for workers (``--workers N`` on its
# command line wins over this): `serve` otherwise starts one worker per core.
os.environ.setdefault("MEETWARDEN_WORKERS", "1")

_HERE = Path(__file__).parent
_MEDIA_PLACES = ("media", "enforcement", "server/test_media.py", "server/test_example_bot.py")
_SERVER_PLACES = ("server/", "sdk/")
_FIXTURES = {
    "postgres_server": "postgres",
    "redis_server": "redis",
    "clamd": "clamd",
    "coturn": "turn",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in (
        (
            "slow",
            "needs a browser, WebRTC peers, PostgreSQL, Redis, clamd, coturn or a server process",
        ),
        ("browser", "drives a real Chromium or Firefox"),
        ("media", "real WebRTC peers (aiortc) on loopback"),
        ("postgres", "a real PostgreSQL server"),
        ("redis", "a real redis-server"),
        ("clamd", "a real clamd"),
        ("turn", "a real coturn (TURN server), and network namespaces"),
        ("server", "a real server process, driven over loopback"),
        (
            "alone",
            "measures how media flows against a clock (freezes, bandwidth): `make test` runs "
            "these after the others, one at a time, with no other test beside them",
        ),
    ):
        config.addinivalue_line("markers", f"{name}: {what}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = Path(str(item.path)).relative_to(_HERE).as_posix()
        marks = set()
        if where.startswith("browser/"):
            marks.add("browser")
        if any(where.startswith(place) for place in _MEDIA_PLACES):
            marks.add("media")
        if any(where.startswith(place) for place in _SERVER_PLACES):
            marks.add("server")
        fixtures = set(getattr(item, "fixturenames", ()))
        marks.update(mark for fixture, mark in _FIXTURES.items() if fixture in fixtures)
        if getattr(item, "callspec", None) is not None and "postgresql" in item.callspec.id:
            marks.add("postgres")
        for mark in marks | ({"slow"} if marks else set()):
            item.add_marker(mark)
        item.add_marker(pytest.mark.xdist_group(_group(where, marks)))


_BROWSER_MEDIA = (
    "browser/test_media.py",
    "browser/test_simulcast.py",
    "browser/test_edge_simulcast.py",
    "browser/test_moving_nodes.py",
    "browser/test_browser_turn.py",
    "browser/test_speaking.py",
    "browser/test_firefox.py",
)
"""The browser modules whose pages send and count video (cameras, screens, layers)."""


def _group(where: str, marks: set[str]) -> str:
    """`make test` hands whole groups to its two workers (``--dist loadgroup``): a module
    each, as ``loadfile`` did, except the browser modules that count video, which are one
    group and so never run two at a time. Each starts three Chromiums with fake cameras;
    two such modules side by side on two cores starved their browsers until they lost
    packets, and the server rightly paused the video they could not take. The other
    browser modules are a second group, so one of each may run at once (all the browser
    modules in one group made the run 3 to 4 min longer, near its 30 min bound)."""
    if "browser" not in marks:
        return where
    return "browser-media" if where.startswith(_BROWSER_MEDIA) else "browser"
