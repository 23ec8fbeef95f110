"""What the server knows of where a connection comes from: an address, and its network.

Limits are kept per *address* (attempt budgets, sockets at once). An IPv6
host is usually given a whole /64 and picks addresses in it at will, so for
IPv6 the address is its /64 (RFC 7421 section 1); an IPv4-mapped IPv6
address is the IPv4 address it maps.

The waiting room's share is kept per *network*: an IPv4 /24 or an IPv6 /64.
The engine sees a network only as an opaque ``source``: a keyed hash, with a
key made when the process starts, so the audit log never holds an address
and sources of two runs cannot be linked.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import secrets

__all__ = ["NetworkSources", "address_key", "network_of"]


def _parsed(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone is not the address
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_CACHED_LENGTH = 64
"""Hosts up to this long are remembered (``address_key``): an address is shorter."""


def address_key(host: str) -> str:
    """The key per-address limits use: the IPv4 address, or the IPv6 address's /64."""
    return _remembered_key(host) if len(host) <= _CACHED_LENGTH else _key(host)


def _key(host: str) -> str:
    address = _parsed(host)
    if address is None:
        return host[:64]  # not an IP address (a Unix socket, a test client): as it is
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


# Every socket asks, and parsing an address with ``ipaddress`` costs more than the rest
# of the door's work; a crowd comes back from the same addresses (bounded: they vary).
_remembered_key = functools.lru_cache(maxsize=4096)(_key)


def network_of(host: str) -> str:
    """The address's network: its IPv4 /24 or its IPv6 /64."""
    address = _parsed(host)
    if address is None:
        return host[:64]
    prefix = 24 if isinstance(address, ipaddress.IPv4Address) else 64
    return str(ipaddress.ip_network((address, prefix), strict=False))


class NetworkSources:
    """The opaque ``source`` of a client address, as the engine sees it."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        # Every join asks; a crowd comes from a few networks (bounded: addresses vary).
        self._known = functools.lru_cache(maxsize=4096)(self._source)

    def of(self, host: str) -> str:
        source: str = self._known(host)
        return source

    def _source(self, host: str) -> str:
        digest = hmac.new(self._key, network_of(host).encode(), hashlib.sha256).hexdigest()
        return f"net:{digest[:20]}"
