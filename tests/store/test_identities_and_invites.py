"""Bans, people who must wait again, and invites."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from meetwarden.server.store import (
    InviteRecord,
    MeetingRecord,
    RecordExistsError,
    RecordNotFoundError,
    Store,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def meeting_id(store: Store, make_meeting: Callable[..., MeetingRecord]) -> str:
    await store.create_meeting(make_meeting("m"))
    await store.create_meeting(make_meeting("other"))
    return "m"


async def test_a_new_meeting_has_no_bans(store: Store, meeting_id: str) -> None:
    assert await store.identities(meeting_id) == (frozenset(), frozenset())


async def test_bans_and_must_wait_are_kept_apart_and_adding_again_is_harmless(
    store: Store, meeting_id: str
) -> None:
    await store.add_identities(meeting_id, "ban", ["device:a", "name:mallory"], at=1.0)
    await store.add_identities(meeting_id, "ban", ["device:a", "device:a", "device:b"], at=2.0)
    await store.add_identities(meeting_id, "must_wait", ["device:a", "device:c"], at=3.0)
    await store.add_identities(meeting_id, "must_wait", iter(["device:c"]), at=4.0)
    await store.add_identities(meeting_id, "ban", [], at=5.0)
    assert await store.identities(meeting_id) == (
        frozenset({"device:a", "device:b", "name:mallory"}),
        frozenset({"device:a", "device:c"}),
    )
    assert await store.identities("other") == (frozenset(), frozenset())


async def test_identities_of_an_unknown_meeting_are_refused(store: Store) -> None:
    with pytest.raises(RecordNotFoundError, match="'ghost'"):
        await store.add_identities("ghost", "ban", ["device:a"], at=1.0)
    assert await store.identities("ghost") == (frozenset(), frozenset())


async def test_an_unknown_identity_kind_or_a_bare_string_is_a_programming_error(
    store: Store, meeting_id: str
) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        await store.add_identities(meeting_id, "kick", ["device:a"], at=1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not one string"):
        await store.add_identities(meeting_id, "ban", "device:a", at=1.0)
    assert await store.identities(meeting_id) == (frozenset(), frozenset())


async def test_an_invite_reads_back_and_can_be_revoked_twice(store: Store, meeting_id: str) -> None:
    invite = InviteRecord("jti-abc", meeting_id, "participant", 10.0, 3610.5)
    await store.add_invite(invite)
    assert await store.get_invite("jti-abc") == invite
    await store.revoke_invite("jti-abc")
    await store.revoke_invite("jti-abc")
    assert await store.get_invite("jti-abc") == InviteRecord(
        "jti-abc", meeting_id, "participant", 10.0, 3610.5, revoked=True
    )


async def test_an_invite_stored_revoked_stays_revoked(store: Store, meeting_id: str) -> None:
    invite = InviteRecord("jti-r", meeting_id, "cohost", 1.0, 2.0, revoked=True)
    await store.add_invite(invite)
    assert await store.get_invite("jti-r") == invite


async def test_invite_ids_are_unique_and_must_name_a_stored_meeting(
    store: Store, meeting_id: str
) -> None:
    await store.add_invite(InviteRecord("jti-1", meeting_id, "participant", 1.0, 2.0))
    with pytest.raises(RecordExistsError, match="'jti-1'"):
        await store.add_invite(InviteRecord("jti-1", "other", "cohost", 1.0, 2.0))
    with pytest.raises(RecordNotFoundError, match="'ghost'"):
        await store.add_invite(InviteRecord("jti-2", "ghost", "participant", 1.0, 2.0))
    assert await store.get_invite("jti-2") is None
    invite = await store.get_invite("jti-1")
    assert invite is not None
    assert invite.role == "participant"


async def test_an_unknown_invite_reads_as_none_and_cannot_be_revoked(store: Store) -> None:
    assert await store.get_invite("nope") is None
    with pytest.raises(RecordNotFoundError, match="'nope'"):
        await store.revoke_invite("nope")
