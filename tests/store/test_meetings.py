"""Meetings and their policies: stored, every policy version kept, changes, restarts."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import anyio
import pytest

from meetwarden.server.store import (
    AuditEntry,
    InviteRecord,
    MeetingRecord,
    RecordExistsError,
    RecordNotFoundError,
    Store,
)

pytestmark = pytest.mark.anyio

MakeMeeting = Callable[..., MeetingRecord]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def test_a_created_meeting_reads_back_field_for_field(
    store: Store, make_meeting: MakeMeeting
) -> None:
    record = make_meeting(password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", locked=True)
    await store.create_meeting(record)
    assert await store.get_meeting(record.id) == record


async def test_an_unknown_meeting_reads_as_none(store: Store) -> None:
    assert await store.get_meeting("no-such-meeting") is None


async def test_a_meeting_id_is_stored_once(store: Store, make_meeting: MakeMeeting) -> None:
    await store.create_meeting(make_meeting("m"))
    with pytest.raises(RecordExistsError, match="'m' is already stored"):
        await store.create_meeting(make_meeting("m", name="Another"))
    stored = await store.get_meeting("m")
    assert stored is not None
    assert stored.name == "Board meeting"


async def test_creating_a_meeting_stores_its_first_policy_version_with_its_hash(
    store: Store, make_meeting: MakeMeeting
) -> None:
    record = make_meeting()
    await store.create_meeting(record, created_by="host:alice")
    [version] = await store.policy_versions(record.id)
    assert version.meeting_id == record.id
    assert version.revision == 1
    assert version.document == record.policy_document
    assert version.sha256 == sha256(record.policy_document)
    assert version.created_at == record.created_at
    assert version.created_by == "host:alice"


async def test_replacing_the_policy_keeps_every_version_in_order(
    store: Store, make_meeting: MakeMeeting
) -> None:
    await store.create_meeting(make_meeting("m"))
    documents = ['{"audio": {"unmute": "host_only"}}', '{"sharing": {"screen": "nobody"}}']
    revisions = [
        await store.replace_policy("m", document, at=1_700_000_500.0 + index, by="cohost:bob")
        for index, document in enumerate(documents)
    ]
    assert revisions == [2, 3]
    versions = await store.policy_versions("m")
    assert [version.revision for version in versions] == [1, 2, 3]
    assert [version.sha256 for version in versions[1:]] == [sha256(d) for d in documents]
    assert versions[2].created_by == "cohost:bob"
    assert versions[2].created_at == 1_700_000_501.0
    meeting = await store.get_meeting("m")
    assert meeting is not None
    assert (meeting.policy_revision, meeting.policy_document) == (3, documents[1])


async def test_a_policy_document_is_kept_byte_for_byte(
    store: Store, make_meeting: MakeMeeting
) -> None:
    document = '{\n  "name": {"block_list": ["Zoë", "主持人"]},  "x": 1.50\n}'
    await store.create_meeting(make_meeting("m", policy_document=document))
    [version] = await store.policy_versions("m")
    assert version.document == document
    assert version.sha256 == sha256(document)


async def test_concurrent_policy_replacements_each_get_their_own_revision(
    store: Store, make_meeting: MakeMeeting
) -> None:
    await store.create_meeting(make_meeting("m"))
    revisions: list[int] = []

    async def replace(number: int) -> None:
        revisions.append(await store.replace_policy("m", f'{{"n": {number}}}', at=2.0, by="h"))

    async with anyio.create_task_group() as group:
        for number in range(10):
            group.start_soon(replace, number)
    assert sorted(revisions) == list(range(2, 12))
    versions = await store.policy_versions("m")
    assert [version.revision for version in versions] == list(range(1, 12))
    meeting = await store.get_meeting("m")
    assert meeting is not None
    assert meeting.policy_revision == 11
    assert meeting.policy_document == versions[-1].document


async def test_replacing_the_policy_of_an_unknown_meeting_is_refused(store: Store) -> None:
    with pytest.raises(RecordNotFoundError, match="no meeting with id 'ghost'"):
        await store.replace_policy("ghost", "{}", at=1.0, by="host")
    assert await store.policy_versions("ghost") == []


async def test_password_hash_can_be_set_and_removed(
    store: Store, make_meeting: MakeMeeting
) -> None:
    await store.create_meeting(make_meeting("m"))
    await store.set_password_hash("m", "$argon2id$v=19$new")
    assert (await store.get_meeting("m")) == make_meeting("m", password_hash="$argon2id$v=19$new")
    await store.set_password_hash("m", None)
    assert (await store.get_meeting("m")) == make_meeting("m")


async def test_lock_and_unlock(store: Store, make_meeting: MakeMeeting) -> None:
    await store.create_meeting(make_meeting("m"))
    await store.set_locked("m", True)
    assert (await store.get_meeting("m")) == make_meeting("m", locked=True)
    await store.set_locked("m", False)
    assert (await store.get_meeting("m")) == make_meeting("m", locked=False)


async def test_an_ended_meeting_is_no_longer_active_and_keeps_its_first_end_time(
    store: Store, make_meeting: MakeMeeting
) -> None:
    for number in range(3):
        await store.create_meeting(make_meeting(f"m{number}", created_at=100.0 + number))
    await store.end_meeting("m1", 200.0)
    await store.end_meeting("m1", 300.0)
    assert [meeting.id for meeting in await store.active_meetings()] == ["m0", "m2"]
    ended = await store.get_meeting("m1")
    assert ended is not None
    assert ended.ended_at == 200.0


@pytest.mark.parametrize(
    "change",
    [
        lambda store: store.set_password_hash("ghost", "x"),
        lambda store: store.set_locked("ghost", True),
        lambda store: store.end_meeting("ghost", 1.0),
    ],
    ids=["password", "lock", "end"],
)
async def test_changing_an_unknown_meeting_is_refused(
    store: Store, change: Callable[[Store], Awaitable[None]]
) -> None:
    with pytest.raises(RecordNotFoundError, match="'ghost'"):
        await change(store)


async def test_meetings_bans_invites_and_audit_survive_a_restart(
    database_url: str, make_meeting: MakeMeeting, make_entry: Callable[..., AuditEntry]
) -> None:
    first = await Store.open(database_url)
    await first.create_meeting(make_meeting("kept"))
    await first.create_meeting(make_meeting("over"))
    await first.replace_policy("kept", '{"v": 2}', at=5.0, by="host")
    await first.set_password_hash("kept", "hash")
    await first.set_locked("kept", True)
    await first.end_meeting("over", 9.0)
    await first.add_identities("kept", "ban", ["device:1", "ip:10.0.0.1"], at=6.0)
    await first.add_identities("kept", "must_wait", ["device:2"], at=6.0)
    invite = InviteRecord("jti-1", "kept", "cohost", 5.0, 3600.0)
    await first.add_invite(invite)
    await first.append_audit([make_entry("kept", number) for number in range(5)])
    await first.close()

    second = await Store.open(database_url)
    try:
        meeting = await second.get_meeting("kept")
        assert meeting == make_meeting(
            "kept",
            password_hash="hash",
            locked=True,
            policy_revision=2,
            policy_document='{"v": 2}',
        )
        assert [m.id for m in await second.active_meetings()] == ["kept"]
        assert await second.identities("kept") == (
            frozenset({"device:1", "ip:10.0.0.1"}),
            frozenset({"device:2"}),
        )
        assert await second.get_invite("jti-1") == invite
        entries = await second.audit("kept")
        assert [entry.decision_id for entry in entries] == [f"decision-{n}" for n in range(5)]
        assert len(await second.policy_versions("kept")) == 2
    finally:
        await second.close()
