"""The work a refused join costs: the same whether or not the meeting exists.

Timing is not asserted here (it belongs in ``bench/join_timing.py``, measured
side by side); what is counted is the work that makes the time: store reads
of the meeting and argon2 verifications. Every refusal that says ``join_failed``
costs one of each, so neither the answer nor its time tells a real meeting
from an id that names nothing. These run the join in this process, on a real
SQLite file.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from meetwarden import protocol as wire
from meetwarden.policies.events import JoinRequested
from meetwarden.server.runtime.joining import join
from meetwarden.server.runtime.registry import Registry
from meetwarden.server.runtime.session import Session

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


class Counted:
    """Counts the meeting reads and the argon2 verifications of the registry it wraps."""

    def __init__(self, registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = self.verifications = 0
        store_read, verify = registry.store.get_meeting, registry.passwords.verify

        async def counted_read(*args: Any) -> Any:
            self.reads += 1
            return await store_read(*args)

        async def counted_verify(*args: Any) -> Any:
            self.verifications += 1
            return await verify(*args)

        monkeypatch.setattr(registry.store, "get_meeting", counted_read)
        monkeypatch.setattr(registry.passwords, "verify", counted_verify)

    def take(self) -> tuple[int, int]:
        work, self.reads, self.verifications = (self.reads, self.verifications), 0, 0
        return work


async def test_a_refused_join_costs_the_same_for_a_real_meeting_and_an_unknown_id(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await registry.create_meeting({"entry": {"password": True}}, "correct horse")
    room = await registry.room(created.meeting_id)  # live, as during a meeting
    assert room is not None
    host = Session("h", device_id="d-h", device_token="t")
    assert (
        await room.join(JoinRequested(participant="h", name="A Host", role="host"), host)
    ).allowed
    counted = Counted(registry, monkeypatch)
    unknown = secrets.token_urlsafe(16)
    presented: list[dict[str, Any]] = [
        {},
        {"password": "a wrong guess"},
        {"host_token": "not.a.token"},
        {"invite": "not.an.invite"},
    ]
    for number, fields in enumerate(presented):
        work = {}
        for meeting_id in (created.meeting_id, unknown):
            message = wire.Join(name="Bob Smith", **fields)
            result = await join(registry, meeting_id, message, f"10.0.{number}.1")
            assert result.refusal is not None
            assert result.refusal.reason == "join_failed"
            work[meeting_id] = counted.take()
        assert work[created.meeting_id] == work[unknown] == (1, 1), fields


async def test_a_plain_join_to_a_live_meeting_without_a_password_reads_nothing(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its answer (welcome, then waiting) says the meeting is real: a store read to even
    out its time would hide nothing. Anything presented still costs the read."""
    created = await registry.create_meeting({}, None)
    assert await registry.room(created.meeting_id) is not None  # live, as during a meeting
    counted = Counted(registry, monkeypatch)
    plain = await join(registry, created.meeting_id, wire.Join(name="Bob Smith"), "10.1.0.1")
    assert plain.refusal is None
    assert plain.session is not None
    assert counted.take() == (0, 0)
    guess = wire.Join(name="Carol Jones", password="not needed")
    await join(registry, created.meeting_id, guess, "10.1.1.1")
    assert counted.take()[0] == 1
