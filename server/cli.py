"""The ``meetwarden`` command."""

from __future__ import annotations

import typer

from .cli_hosting import accounts_app, keys_app
from .cli_policy import app as policy_app
from .cli_serve import serve

app = typer.Typer(
    help="meetwarden: a video-meeting server that enforces the host's privacy policy.",
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")
app.command()(serve)


def main() -> None:
    app(prog_name="meetwarden")
