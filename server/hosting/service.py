"""Hosting: who may create meetings, and how they prove it.

Two kinds of credential, as LiveKit has API keys for programs and its cloud
has accounts for people:

- **operator API keys**, made and revoked with ``meetwarden keys`` and
  presented as ``Authorization: Bearer mwk_...`` (scripts, bots, CI);
- **host accounts**, a username and an argon2id password, signed in through
  the sign-in page into a server-side session (browsers).

The first account is made through a one-time link that the server prints at
its first start (when no account or key exists yet); later ones through links
from ``meetwarden accounts link``, or ``meetwarden accounts create``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..auth import Passwords
from ..budgets import Budget, LocalBudget
from ..i18n import say
from ..i18n.markers import N_
from ..store import (
    AccountRecord,
    ApiKeyRecord,
    RecordExistsError,
    RecordNotFoundError,
    SessionRecord,
    SetupLinkRecord,
    Store,
)
from ..store.hosting import SetupLinkPurpose
from .accounts import password_problem, username_problem
from .credentials import NewApiKey, digest, new_api_key, new_secret, parse_api_key, secret_matches

__all__ = [
    "FIRST_LINK_MINUTES",
    "SESSION_SECONDS",
    "Hosting",
    "HostingRefusedError",
    "SignInRefused",
    "SignedIn",
]

SESSION_SECONDS: Final = 12 * 3600.0
"""A session lasts a working day; signing out ends it at once."""
FIRST_LINK_MINUTES: Final = 60
# Sign-in guesses: per address (one source), per account (many sources together);
# NIST SP 800-63B asks for at most 100 failed attempts per account.
ADDRESS_ATTEMPTS: Final = (10, 900.0)
ACCOUNT_ATTEMPTS: Final = (100, 3600.0)


class HostingRefusedError(Exception):
    """A request about accounts refused, with a stable code and a sentence for the person:
    ``template`` is its English message id, filled in from ``params``."""

    def __init__(self, code: str, template: str, params: dict[str, int] | None = None) -> None:
        self.code, self.template, self.params = code, template, params or {}
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The sentence in English (what the command line prints)."""
        return say("en", self.template, **self.params)


@dataclass(frozen=True, slots=True)
class SignedIn:
    account: AccountRecord
    session: SessionRecord
    cookie: str
    """The session's secret, for the cookie; the store keeps only its digest."""


@dataclass(frozen=True, slots=True)
class SignInRefused:
    retry_after: float | None
    """Seconds to wait when too many attempts were made; None for a wrong username or password."""


class Hosting:
    """Keys, accounts, sessions and set-up links over the store."""

    def __init__(self, store: Store, passwords: Passwords) -> None:
        self.store = store
        self.passwords = passwords
        self.per_address: Budget = LocalBudget(*ADDRESS_ATTEMPTS)
        self.per_account: Budget = LocalBudget(*ACCOUNT_ATTEMPTS)

    def share_budgets(self, budget: Callable[[str, int, float], Budget]) -> None:
        """Counts sign-in guesses in ``budget(name, limit, window)``, one shared with the
        other nodes of a cluster, instead of in this process."""
        self.per_address = budget("sign_in_address", *ADDRESS_ATTEMPTS)
        self.per_account = budget("sign_in_account", *ACCOUNT_ATTEMPTS)

    # API keys.

    async def create_api_key(self, name: str) -> NewApiKey:
        made = new_api_key()
        await self.store.add_api_key(ApiKeyRecord(made.key_id, name, made.key_hash, time.time()))
        return made

    async def check_api_key(self, presented: str) -> ApiKeyRecord | None:
        """The unrevoked key presented, or None (malformed, unknown, wrong or revoked)."""
        parsed = parse_api_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        record = await self.store.get_api_key(key_id)
        if record is None or not secret_matches("api_key", secret, record.key_hash):
            return None
        return record if record.revoked_at is None else None

    # Set-up links and accounts.

    async def create_setup_link(self, purpose: SetupLinkPurpose, minutes: float) -> str:
        """A new link's token (single use, expiring); only its digest is stored."""
        token, now = new_secret(), time.time()
        record = SetupLinkRecord(digest("setup_link", token), purpose, now, now + minutes * 60)
        await self.store.add_setup_link(record)
        return token

    async def first_start_link(self, *, replace: bool = True) -> str | None:
        """While no account or key exists, a new first-account link. ``replace``: the
        earlier unused ones stop working (one server restarting); without it they keep
        working until they expire or an account exists (the nodes of a cluster, each
        printing its own link at start)."""
        if await self.store.anyone_may_host():
            return None
        token, now = new_secret(), time.time()
        record = SetupLinkRecord(
            digest("setup_link", token), "first_account", now, now + FIRST_LINK_MINUTES * 60
        )
        await self.store.add_setup_link(record, replace=replace)
        return token

    async def _new_account(self, username: str, password: str) -> AccountRecord:
        name = username.strip().lower()
        problem = username_problem(name)
        if problem is not None:
            raise HostingRefusedError("username_invalid", problem)
        weak = password_problem(password, name)
        if weak is not None:
            raise HostingRefusedError("password_invalid", *weak)
        password_hash = await self.passwords.hash(password)
        return AccountRecord(secrets.token_hex(8), name, password_hash, time.time())

    async def create_account(self, username: str, password: str) -> AccountRecord:
        """An account made by the operator (``meetwarden accounts create``)."""
        account = await self._new_account(username, password)
        try:
            await self.store.add_account(account)
        except RecordExistsError:
            raise HostingRefusedError("username_taken", N_("This username is taken.")) from None
        return account

    async def create_account_with_link(
        self, token: str, username: str, password: str
    ) -> AccountRecord:
        """An account made through a set-up link, which it uses up."""
        account = await self._new_account(username, password)
        try:
            await self.store.add_account_with_link(
                account, digest("setup_link", token), at=time.time()
            )
        except RecordExistsError:
            raise HostingRefusedError("username_taken", N_("This username is taken.")) from None
        except RecordNotFoundError:
            raise HostingRefusedError(
                "setup_link_invalid",
                N_(
                    "This set-up link was used already or has expired. Ask the server's "
                    "operator for a new one (meetwarden accounts link)."
                ),
            ) from None
        return account

    # Signing in, sessions.

    async def sign_in(self, username: str, password: str, address: str) -> SignedIn | SignInRefused:
        """Checks a password within the attempt budgets; a session when it is right.

        An unknown username costs the same argon2 work as a known one and gets the
        same answer, so sign-in does not tell which usernames exist.
        """
        name = username.strip().lower()
        wait = await self.per_address.take(f"address:{address}")
        if wait is not None:
            return SignInRefused(wait)
        wait = await self.per_account.take(f"account:{name}")
        if wait is not None:
            await self.per_address.give_back(f"address:{address}")  # not checked: not a guess
            return SignInRefused(wait)
        account = await self.store.get_account(name) if username_problem(name) is None else None
        if not await self.passwords.verify(account.password_hash if account else None, password):
            return SignInRefused(None)
        assert account is not None  # verify is False without a hash
        await self.per_address.give_back(f"address:{address}")
        await self.per_account.give_back(f"account:{name}")
        return await self.start_session(account)

    async def start_session(self, account: AccountRecord) -> SignedIn:
        cookie, now = new_secret(), time.time()
        session = SessionRecord(
            digest("session", cookie), account.id, new_secret(), now, now + SESSION_SECONDS
        )
        await self.store.add_session(session)
        return SignedIn(account, session, cookie)

    async def session(self, cookie: str) -> tuple[SessionRecord, AccountRecord] | None:
        """The unexpired session whose cookie this is, with its account, or None."""
        if not cookie or len(cookie) > 128:
            return None
        return await self.store.get_session(digest("session", cookie), now=time.time())

    async def end_session(self, cookie: str) -> None:
        await self.store.delete_session(digest("session", cookie))
