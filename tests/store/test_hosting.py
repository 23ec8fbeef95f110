"""Who may create meetings, as stored: API keys, accounts, sessions and set-up links."""

from __future__ import annotations

import pytest

from meetwarden.server.store import (
    AccountRecord,
    ApiKeyRecord,
    RecordExistsError,
    RecordNotFoundError,
    SessionRecord,
    SetupLinkRecord,
    Store,
)

pytestmark = pytest.mark.anyio


def account(username: str = "ada", account_id: str | None = None) -> AccountRecord:
    return AccountRecord(account_id or f"id-{username}", username, "$argon2id$hash", 10.0)


async def test_a_new_database_lets_nobody_host_until_a_key_or_an_account_exists(
    store: Store,
) -> None:
    assert not await store.anyone_may_host()
    await store.add_api_key(ApiKeyRecord("k1", "ci", "hash-1", 1.0))
    assert await store.anyone_may_host()
    await store.revoke_api_key("k1", at=2.0)
    assert not await store.anyone_may_host()  # a revoked key is no credential
    await store.add_account(account())
    assert await store.anyone_may_host()


async def test_keys_are_listed_and_revoked_once_and_unknown_ones_are_refused(
    store: Store,
) -> None:
    await store.add_api_key(ApiKeyRecord("k1", "ci", "hash-1", 1.0))
    await store.add_api_key(ApiKeyRecord("k2", "bots", "hash-2", 2.0))
    with pytest.raises(RecordExistsError):
        await store.add_api_key(ApiKeyRecord("k1", "again", "hash-3", 3.0))
    await store.revoke_api_key("k1", at=5.0)
    await store.revoke_api_key("k1", at=6.0)
    with pytest.raises(RecordNotFoundError):
        await store.revoke_api_key("nope", at=5.0)
    assert await store.api_keys() == [
        ApiKeyRecord("k1", "ci", "hash-1", 1.0, revoked_at=5.0),
        ApiKeyRecord("k2", "bots", "hash-2", 2.0),
    ]
    assert await store.get_api_key("k2") == ApiKeyRecord("k2", "bots", "hash-2", 2.0)
    assert await store.get_api_key("nope") is None


async def test_a_set_up_link_makes_one_account_once_and_not_after_it_expires(store: Store) -> None:
    await store.add_setup_link(SetupLinkRecord("link", "account", 0.0, 100.0))
    await store.add_setup_link(SetupLinkRecord("old", "account", 0.0, 50.0))
    with pytest.raises(RecordNotFoundError):
        await store.add_account_with_link(account("late"), "old", at=50.0)
    await store.add_account_with_link(account("ada"), "link", at=20.0)
    with pytest.raises(RecordNotFoundError):
        await store.add_account_with_link(account("bob"), "link", at=21.0)
    with pytest.raises(RecordNotFoundError):
        await store.add_account_with_link(account("eve"), "never-made", at=21.0)
    assert [a.username for a in await store.accounts()] == ["ada"]


async def test_a_taken_username_leaves_the_link_usable(store: Store) -> None:
    await store.add_account(account("ada"))
    await store.add_setup_link(SetupLinkRecord("link", "account", 0.0, 100.0))
    with pytest.raises(RecordExistsError):
        await store.add_account_with_link(account("ada", "other-id"), "link", at=1.0)
    await store.add_account_with_link(account("bob"), "link", at=2.0)
    assert [a.username for a in await store.accounts()] == ["ada", "bob"]


async def test_the_first_accounts_link_is_replaced_by_a_new_one_and_overtaken_by_an_account(
    store: Store,
) -> None:
    await store.add_setup_link(SetupLinkRecord("first-1", "first_account", 0.0, 100.0))
    await store.add_setup_link(SetupLinkRecord("first-2", "first_account", 1.0, 100.0))
    with pytest.raises(RecordNotFoundError):  # replaced by the link printed at the next start
        await store.add_account_with_link(account("ada"), "first-1", at=2.0)
    await store.add_account(account("operator"))  # e.g. `meetwarden accounts create`
    with pytest.raises(RecordNotFoundError):
        await store.add_account_with_link(account("ada"), "first-2", at=3.0)
    assert [a.username for a in await store.accounts()] == ["operator"]


async def test_sessions_expire_end_and_go_with_their_account(store: Store) -> None:
    await store.add_account(account("ada"))
    await store.add_session(SessionRecord("s1", "id-ada", "csrf-1", 10.0, 20.0))
    await store.add_session(SessionRecord("s2", "id-ada", "csrf-2", 11.0, 30.0))
    found = await store.get_session("s1", now=15.0)
    assert found is not None
    session, owner = found
    assert session == SessionRecord("s1", "id-ada", "csrf-1", 10.0, 20.0)
    assert owner == account("ada")
    assert await store.get_session("s1", now=20.0) is None  # expired
    await store.delete_session("s2")
    await store.delete_session("s2")
    assert await store.get_session("s2", now=15.0) is None
    await store.add_session(SessionRecord("s3", "id-ada", "csrf-3", 12.0, 40.0))
    await store.remove_account("ada")
    assert await store.get_session("s3", now=15.0) is None
    assert await store.get_account("ada") is None
    with pytest.raises(RecordNotFoundError):
        await store.remove_account("ada")
