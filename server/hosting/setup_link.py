"""The one-time link to set up the first account, printed when the server starts.

The embedded default stays two commands (``make run``): with no account and
no API key yet, the server makes a single-use link that expires, and prints
it where the person who started it reads it (the way Jupyter prints its
token). The token rides in the URL's fragment, which the browser never sends
to a server, so it does not land in access logs or ``Referer`` headers.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import TextIO

from .service import FIRST_LINK_MINUTES

__all__ = ["local_base_url", "print_setup_link", "setup_url"]


def local_base_url(host: str, port: int) -> str:
    """The URL of a server listening on host:port, as a browser on this machine reaches it."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}"


def setup_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/setup#token={token}"


def print_setup_link(base_url: str, token: str, out: TextIO | None = None) -> None:
    stream = out or sys.stderr
    print(
        "\nmeetwarden: no host account yet. Set up the first one at this link "
        f"(it works once, within {FIRST_LINK_MINUTES} minutes):\n\n"
        f"    {setup_url(base_url, token)}\n\n"
        "(Scripts use API keys instead: meetwarden keys create --name NAME.)\n",
        file=stream,
        flush=True,
    )
