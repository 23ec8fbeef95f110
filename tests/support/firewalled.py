"""A second test host behind a firewall that drops UDP: a network namespace and a veth pair.

The host lives in its own network namespace (``ip netns``), joined to this one
by a veth pair on a /30 of its own: it reaches this side's ``gateway`` address
(where the test's server and coturn listen) over TCP, and nothing over UDP,
because iptables in the namespace drops every UDP datagram in and out, as a
hotel's or an office's firewall does. Programs run there through ``command``
(``ip netns exec``). Needs root (CAP_NET_ADMIN), iproute2 and iptables.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

__all__ = ["FirewalledHost", "firewalled_host"]

_NETWORKS = ipaddress.ip_network("10.231.0.0/16")


@dataclass(frozen=True)
class FirewalledHost:
    namespace: str
    address: str
    """This host's own address, inside the namespace."""
    gateway: str
    """The address on this side that it reaches (listen there)."""

    def command(self, *args: str) -> list[str]:
        """The command line that runs ``args`` inside the namespace."""
        return ["ip", "netns", "exec", self.namespace, *args]

    def run(self, *args: str) -> str:
        """Runs a command inside the namespace; returns its output (fails the test if it fails)."""
        return _ip("netns", "exec", self.namespace, *args)


def _ip(*args: str) -> str:
    command = ["ip", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 no interface here has an address in (other tests may hold namespaces too)."""
    used = _ip("-o", "-4", "addr")
    subnets = list(_NETWORKS.subnets(new_prefix=30))
    for subnet in random.sample(subnets, 200):
        if not any(str(host) in used for host in subnet):
            return subnet
    raise RuntimeError(f"no free /30 in {_NETWORKS}")


def _required() -> None:
    if os.geteuid() != 0:
        pytest.skip("a firewalled test host needs root (CAP_NET_ADMIN) for ip netns")
    for tool, package in (("ip", "iproute2"), ("iptables", "iptables")):
        if shutil.which(tool) is None:
            pytest.fail(
                f"{tool} is not installed, and the TURN tests put a client behind a firewall "
                f"with it: run the test command from the README (`make test`), which installs "
                f"the Debian package {package}, or `apt-get install {package}`."
            )


@contextlib.contextmanager
def firewalled_host() -> Iterator[FirewalledHost]:
    """A host that reaches ``gateway`` over TCP only; removed (namespace and veth) at the end."""
    _required()
    tag = f"{os.getpid() % 100000}{random.randrange(1000):03d}"
    namespace, outside, inside = f"mw-noudp-{tag}", f"mwo{tag}", f"mwi{tag}"
    subnet = _free_subnet()
    gateway, address = (str(host) for host in subnet.hosts())
    _ip("netns", "add", namespace)
    try:
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", namespace)
        _ip("addr", "add", f"{gateway}/30", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("-n", namespace, "addr", "add", f"{address}/30", "dev", inside)
        _ip("-n", namespace, "link", "set", inside, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        host = FirewalledHost(namespace, address, gateway)
        for chain in ("OUTPUT", "INPUT"):
            host.run("iptables", "-A", chain, "-p", "udp", "-j", "DROP")
        yield host
    finally:
        with contextlib.suppress(RuntimeError):
            _ip("link", "del", outside)  # takes its peer inside with it
        _ip("netns", "del", namespace)
