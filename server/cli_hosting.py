"""``meetwarden keys`` and ``meetwarden accounts``: who may create meetings.

They work on the database ``meetwarden serve`` uses (the same ``--data-dir``
or ``--database-url``), whether or not the server is running.
"""

from __future__ import annotations

import asyncio
import datetime
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from .auth import Passwords
from .config import Settings
from .hosting.service import Hosting, HostingRefusedError
from .store import RecordNotFoundError, Store, StoreError

__all__ = ["accounts_app", "keys_app"]

T = TypeVar("T")

keys_app = typer.Typer(
    help="Operator API keys: what scripts and bots present (Authorization: Bearer) "
    "to create meetings.",
    no_args_is_help=True,
)
accounts_app = typer.Typer(
    help="Host accounts: people who sign in on the web page to create meetings.",
    no_args_is_help=True,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        help="The server's --data-dir (its SQLite database lives there). "
        "Default: $MEETWARDEN_DATA_DIR, else data."
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="The server's --database-url, when it uses PostgreSQL. "
        "Default: $MEETWARDEN_DATABASE_URL."
    ),
]


def _run(
    data_dir: Path | None, database_url: str | None, work: Callable[[Hosting], Awaitable[T]]
) -> T:
    async def main() -> T:
        # The server's own settings: a flag wins over MEETWARDEN_DATA_DIR and the rest.
        given = {"data_dir": data_dir, "database_url": database_url}
        settings = Settings(**{name: value for name, value in given.items() if value is not None})
        url = settings.resolved_database_url
        store = await Store.open(url)
        try:
            return await work(Hosting(store, Passwords()))
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except HostingRefusedError as refused:
        typer.echo(f"error: {refused.message}", err=True)
        raise typer.Exit(1) from None
    except RecordNotFoundError as missing:
        typer.echo(f"error: {missing}", err=True)
        raise typer.Exit(1) from None
    except StoreError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _when(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="What the key is for (shown by `keys list`).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Make a key and print it (on standard output, alone): it is shown only this once."""
    if not 1 <= len(name.strip()) <= 100:
        typer.echo("error: a key's name has 1 to 100 characters", err=True)
        raise typer.Exit(2)
    made = _run(data_dir, database_url, lambda hosting: hosting.create_api_key(name.strip()))
    typer.echo(
        f"API key {made.key_id} ({name.strip()}) created. It is shown only now and stored "
        "hashed; keep it secret. Present it as 'Authorization: Bearer <key>'; revoke it with "
        f"`meetwarden keys revoke {made.key_id}`.",
        err=True,
    )
    typer.echo(made.key)


@keys_app.command("list")
def list_keys(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Every key: id, name, when it was made, and whether it is revoked (never the key)."""
    keys = _run(data_dir, database_url, lambda hosting: hosting.store.api_keys())
    if not keys:
        typer.echo("no API keys", err=True)
    for key in keys:
        state = "active" if key.revoked_at is None else f"revoked {_when(key.revoked_at)}"
        typer.echo(f"{key.id}  {key.name}  created {_when(key.created_at)}  {state}")


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `keys list` shows it.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: from now on it creates no meeting (meetings it made go on)."""
    import time

    _run(data_dir, database_url, lambda h: h.store.revoke_api_key(key_id, at=time.time()))
    typer.echo(f"API key {key_id} revoked", err=True)


@accounts_app.command("create")
def create_account(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, '.', '_', '-'.")],
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input instead of asking.")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Make a host account (the password is asked for, never given on the command line)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    account = _run(data_dir, database_url, lambda h: h.create_account(username, password))
    typer.echo(f"host account {account.username} created", err=True)


@accounts_app.command("link")
def setup_link(
    public_url: Annotated[
        str, typer.Option(help="The address people use to reach the server.")
    ] = "http://127.0.0.1:8000",
    minutes: Annotated[int, typer.Option(min=1, max=7 * 24 * 60, help="How long it works.")] = 60,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print a one-time link with which someone sets up their own host account."""
    from .hosting.setup_link import setup_url

    token = _run(data_dir, database_url, lambda h: h.create_setup_link("account", minutes))
    typer.echo(f"a host account can be set up once, within {minutes} minutes, at:", err=True)
    typer.echo(setup_url(public_url, token))


@accounts_app.command("list")
def list_accounts(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Every host account: username and when it was made."""
    accounts = _run(data_dir, database_url, lambda hosting: hosting.store.accounts())
    if not accounts:
        typer.echo("no host accounts", err=True)
    for account in accounts:
        typer.echo(f"{account.username}  created {_when(account.created_at)}")


@accounts_app.command("remove")
def remove_account(
    username: str, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Remove a host account and end its sessions (its meetings go on)."""
    _run(data_dir, database_url, lambda h: h.store.remove_account(username.strip().lower()))
    typer.echo(f"host account {username} removed", err=True)
