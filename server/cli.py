"""The ``meetwarden`` command."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Annotated

import typer

from .cli_hosting import accounts_app, keys_app
from .cli_policy import app as policy_app
from .cli_serve import HELP as SERVE_HELP
from .cli_serve import serve

app = typer.Typer(
    help="meetwarden: a video-meeting server that enforces the host's privacy policy.",
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")
app.add_typer(keys_app, name="keys")
app.add_typer(accounts_app, name="accounts")
app.command(help=SERVE_HELP)(serve)


def _version() -> str:
    try:
        return installed_version("meetwarden")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"meetwarden {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """meetwarden: a video-meeting server that enforces the host's privacy policy."""


def main() -> None:
    app(prog_name="meetwarden")
