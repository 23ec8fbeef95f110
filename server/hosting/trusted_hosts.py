"""Only the names this server is reached by: the Host header checked on every request.

DNS rebinding: a page on ``evil.example`` points its name at this server's
address (127.0.0.1, or one inside a network) and then talks to it as its
own origin, Host and Origin both ``evil.example``, so no same-origin check
can tell (the attack the Transmission daemon was fixed against, CVE-2018-5702).
The defence is to answer only to the names the server is meant to have:

- the host of ``--public-url``, when given;
- the loopback names (``localhost``, ``127.0.0.1``, ``::1``) when no public URL
  is given or the server listens on a loopback address;
- with no public URL, any IP address (an address in the Host header cannot
  be rebound: only a name can).

Everything else, HTTP or WebSocket handshake, gets a 400 problem saying so,
except on the ``open_paths`` the server names (``/healthz``: a rebinding page
learns nothing there, and a health check reaches it by address).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
from typing import Final
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHosts", "TrustedHostsMiddleware", "host_name"]

log = logging.getLogger("meetwarden.hosting")
LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_LOGGED_AT_MOST: Final = 100  # distinct refused names logged, so a flood cannot fill the log


_CACHED_LENGTH: Final = 260
"""Host headers up to this long are remembered (a DNS name is 253 characters at most):
every request and socket names one, nearly always the same, and ``urlsplit`` and
``ipaddress`` cost more than the rest of the check."""


def host_name(host_header: str) -> str | None:
    """The name in a Host header (lower case, no port, no brackets), or None if malformed."""
    if len(host_header) <= _CACHED_LENGTH:
        return _remembered_name(host_header)
    return _name(host_header)


def _name(host_header: str) -> str | None:
    try:
        parts = urlsplit(f"//{host_header}")
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    name = parts.hostname
    if not name or parts.username is not None or parts.path or parts.query or parts.fragment:
        return None
    return name.rstrip(".") or None


_remembered_name = functools.lru_cache(maxsize=256)(_name)


@functools.lru_cache(maxsize=256)  # its argument is a host_name: short
def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class TrustedHosts:
    """Which Host headers a server answers to, from its public URL and listening address."""

    def __init__(self, public_url: str | None, listen_host: str) -> None:
        names: set[str] = set()
        if public_url:
            public_name = urlsplit(public_url).hostname
            if public_name:
                names.add(public_name.rstrip("."))
        if not public_url or _is_loopback(listen_host):
            names |= LOOPBACK_NAMES
        self.names = frozenset(names)
        self.any_address = public_url is None

    def allows(self, host_header: str | None) -> bool:
        name = host_name(host_header) if host_header else None
        if name is None:
            return False
        return name in self.names or (self.any_address and _is_ip(name))

    def describe(self) -> str:
        shown = ", ".join(sorted(self.names))
        return f"{shown}{' and IP addresses' if self.any_address else ''}"


class TrustedHostsMiddleware:
    """Refuses HTTP requests and WebSocket handshakes whose Host is not trusted."""

    def __init__(
        self, app: ASGIApp, hosts: TrustedHosts, open_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.open_paths = open_paths
        self._logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if self.hosts.allows(host) or (
            scope["type"] == "http" and scope["path"] in self.open_paths
        ):
            await self.app(scope, receive, send)
            return
        shown = (host or "")[:100]
        if len(self._logged) < _LOGGED_AT_MOST and shown not in self._logged:
            self._logged.add(shown)
            log.warning(
                "refused a request for host %r: this server answers to %s (set --public-url "
                "to the address people use)",
                shown,
                self.hosts.describe(),
            )
        await self._refuse(scope, send, shown)

    async def _refuse(self, scope: Scope, send: Send, host: str) -> None:
        body = json.dumps(
            {
                "type": "https://meetwarden.example/problems/untrusted_host",
                "title": "Unknown host",
                "status": 400,
                "detail": f"This server does not answer to the name {host!r}. Its operator "
                "sets the name it is reached by with --public-url.",
                "reason": "untrusted_host",
                "rule": "",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif "websocket.http.response" in scope.get("extensions", {}):
            # The WebSocket Denial Response extension: an HTTP answer instead of the handshake.
            await send({"type": "websocket.http.response.start", "status": 400, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})
