"""Who may create meetings, as stored: API keys, host accounts, sessions, set-up links.

The records are frozen values like the rest of the store's; the operations
are a mixin of :class:`~meetwarden.server.store.Store` (each one transaction,
failures as :class:`StoreError`). What the secrets are and how they are
checked is ``server/hosting/``'s business: this module sees only hashes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .errors import RecordExistsError, RecordNotFoundError
from .tables import api_keys, host_accounts, host_sessions, setup_links
from .transactions import Transactions

__all__ = [
    "AccountRecord",
    "ApiKeyRecord",
    "HostingRecords",
    "SessionRecord",
    "SetupLinkPurpose",
    "SetupLinkRecord",
]

SetupLinkPurpose = Literal["first_account", "account"]
"""``first_account``: printed at first start, good only while no account exists."""


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    key_hash: str
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: str
    username: str
    password_hash: str
    created_at: float


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    account_id: str
    csrf_token: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class SetupLinkRecord:
    token_hash: str
    purpose: SetupLinkPurpose
    created_at: float
    expires_at: float
    used_at: float | None = None


class HostingRecords(Transactions):
    """The store's operations on keys, accounts, sessions and set-up links."""

    # API keys.

    async def add_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new key (its hash); RecordExistsError if the id is taken."""
        async with self._writing("store an API key") as connection:
            found = await connection.scalar(select(api_keys.c.id).where(api_keys.c.id == record.id))
            if found is not None:
                raise RecordExistsError(f"an API key with id {record.id!r} is already stored")
            await connection.execute(insert(api_keys).values(asdict(record)))

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this id, revoked or not, or None."""
        async with self._reading("read an API key") as connection:
            result = await connection.execute(select(api_keys).where(api_keys.c.id == key_id))
            row = result.mappings().first()
        return None if row is None else ApiKeyRecord(**row)

    async def api_keys(self) -> list[ApiKeyRecord]:
        """Every key, revoked ones included, oldest first."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        async with self._reading("list the API keys") as connection:
            return [ApiKeyRecord(**row) for row in (await connection.execute(query)).mappings()]

    async def revoke_api_key(self, key_id: str, *, at: float) -> None:
        """Revoke a key from now on (again: keeps the first time); RecordNotFoundError if none."""
        async with self._writing("revoke an API key") as connection:
            found = await connection.scalar(
                update(api_keys)
                .where(api_keys.c.id == key_id)
                .values(revoked_at=func.coalesce(api_keys.c.revoked_at, at))
                .returning(api_keys.c.id)
            )
            if found is None:
                raise RecordNotFoundError(f"no API key with id {key_id!r} is stored")

    # Accounts.

    async def anyone_may_host(self) -> bool:
        """True once an account or an unrevoked API key exists."""
        keys = select(api_keys.c.id).where(api_keys.c.revoked_at.is_(None)).limit(1)
        accounts = select(host_accounts.c.id).limit(1)
        async with self._reading("count the accounts and keys") as connection:
            return (await connection.scalar(keys)) is not None or (
                await connection.scalar(accounts)
            ) is not None

    async def add_account(self, record: AccountRecord) -> None:
        """Store an account; RecordExistsError if the username (or id) is taken."""
        async with self._writing("store a host account") as connection:
            await _insert_account(connection, record)

    async def add_account_with_link(
        self, record: AccountRecord, link_hash: str, *, at: float
    ) -> None:
        """Use a set-up link once and store the account it makes, in one transaction.

        RecordNotFoundError if the link is unknown, used, expired, or a first
        account's link while an account exists; RecordExistsError if the
        username is taken (the link then stays usable).
        """
        async with self._writing("store a host account") as connection:
            link = (
                (
                    await connection.execute(
                        update(setup_links)
                        .where(
                            setup_links.c.token_hash == link_hash,
                            setup_links.c.used_at.is_(None),
                            setup_links.c.expires_at > at,
                        )
                        .values(used_at=at)
                        .returning(setup_links.c.purpose)
                    )
                )
                .scalars()
                .first()
            )
            if link is None:
                raise RecordNotFoundError("no usable set-up link with this token is stored")
            if link == "first_account":
                first = await connection.scalar(select(host_accounts.c.id).limit(1))
                if first is not None:
                    raise RecordNotFoundError("the first account's set-up link was overtaken")
            await _insert_account(connection, record)

    async def get_account(self, username: str) -> AccountRecord | None:
        async with self._reading("read a host account") as connection:
            result = await connection.execute(
                select(host_accounts).where(host_accounts.c.username == username)
            )
            row = result.mappings().first()
        return None if row is None else AccountRecord(**row)

    async def accounts(self) -> list[AccountRecord]:
        """Every account, oldest first."""
        query = select(host_accounts).order_by(host_accounts.c.created_at, host_accounts.c.id)
        async with self._reading("list the host accounts") as connection:
            return [AccountRecord(**row) for row in (await connection.execute(query)).mappings()]

    async def remove_account(self, username: str) -> None:
        """Delete the account and end its sessions; RecordNotFoundError if unknown."""
        async with self._writing("remove a host account") as connection:
            account_id = await connection.scalar(
                select(host_accounts.c.id).where(host_accounts.c.username == username)
            )
            if account_id is None:
                raise RecordNotFoundError(f"no host account {username!r} is stored")
            await connection.execute(
                delete(host_sessions).where(host_sessions.c.account_id == account_id)
            )
            await connection.execute(delete(host_accounts).where(host_accounts.c.id == account_id))

    # Sessions.

    async def add_session(self, record: SessionRecord) -> None:
        """Store a session (its cookie's hash), dropping the expired ones on the way."""
        async with self._writing("store a session") as connection:
            await connection.execute(
                delete(host_sessions).where(host_sessions.c.expires_at <= record.created_at)
            )
            await connection.execute(insert(host_sessions).values(asdict(record)))

    async def get_session(
        self, token_hash: str, *, now: float
    ) -> tuple[SessionRecord, AccountRecord] | None:
        """The unexpired session with this hash and its account, or None."""
        query = (
            select(host_sessions, host_accounts)
            .join(host_accounts, host_accounts.c.id == host_sessions.c.account_id)
            .where(host_sessions.c.token_hash == token_hash, host_sessions.c.expires_at > now)
        )
        async with self._reading("read a session") as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        session = SessionRecord(
            token_hash=row["token_hash"],
            account_id=row["account_id"],
            csrf_token=row["csrf_token"],
            created_at=row[host_sessions.c.created_at],
            expires_at=row["expires_at"],
        )
        account = AccountRecord(
            id=row[host_accounts.c.id],
            username=row["username"],
            password_hash=row["password_hash"],
            created_at=row[host_accounts.c.created_at],
        )
        return session, account

    async def delete_session(self, token_hash: str) -> None:
        """End a session (ending it again, or one that never was, is fine)."""
        async with self._writing("end a session") as connection:
            await connection.execute(
                delete(host_sessions).where(host_sessions.c.token_hash == token_hash)
            )

    # Set-up links.

    async def add_setup_link(self, record: SetupLinkRecord, *, replace: bool = True) -> None:
        """Store a link; a first account's link replaces any earlier unused one, unless
        ``replace`` is False."""
        async with self._writing("store a set-up link") as connection:
            if record.purpose == "first_account" and replace:
                await connection.execute(
                    delete(setup_links).where(
                        setup_links.c.purpose == "first_account", setup_links.c.used_at.is_(None)
                    )
                )
            await connection.execute(insert(setup_links).values(asdict(record)))


async def _insert_account(connection: AsyncConnection, record: AccountRecord) -> None:
    taken = await connection.scalar(
        select(host_accounts.c.id).where(
            (host_accounts.c.username == record.username) | (host_accounts.c.id == record.id)
        )
    )
    if taken is not None:
        raise RecordExistsError(f"the username {record.username!r} is taken")
    await connection.execute(insert(host_accounts).values(asdict(record)))
