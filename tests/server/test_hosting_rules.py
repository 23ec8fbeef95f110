"""The small rules of hosting, in process: Host names, key formats, the attempt budget."""

from __future__ import annotations

import pytest

from meetwarden.server.budgets import AttemptBudget
from meetwarden.server.hosting.accounts import password_problem, username_problem
from meetwarden.server.hosting.credentials import digest, new_api_key, parse_api_key
from meetwarden.server.hosting.trusted_hosts import TrustedHosts, host_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8000", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("localhost.:8000", "localhost"),
        ("[::1]:8000", "::1"),
        ("meet.example", "meet.example"),
        ("evil.example@127.0.0.1", None),
        ("127.0.0.1:80/x", None),
        ("127.0.0.1:port", None),
        ("", None),
    ],
)
def test_the_name_in_a_host_header(header: str, name: str | None) -> None:
    assert host_name(header) == name


def test_without_a_public_url_loopback_names_and_addresses_are_trusted_and_names_are_not() -> None:
    hosts = TrustedHosts(None, "0.0.0.0")
    assert all(hosts.allows(h) for h in ("localhost:8000", "127.0.0.1", "[::1]", "192.0.2.7:80"))
    assert not any(hosts.allows(h) for h in ("evil.example", "localhost.evil.example", None))


def test_with_a_public_url_only_its_name_and_loopback_when_listening_there() -> None:
    behind_proxy = TrustedHosts("https://meet.example", "127.0.0.1")
    assert behind_proxy.allows("meet.example")
    assert behind_proxy.allows("localhost:8000")
    assert not behind_proxy.allows("192.0.2.7")  # an address is no longer enough
    exposed = TrustedHosts("https://meet.example", "0.0.0.0")
    assert exposed.allows("meet.example:443")
    assert not exposed.allows("localhost")
    assert not exposed.allows("evil.example")


def test_an_api_key_is_parsed_whole_and_stored_as_a_keyed_digest() -> None:
    made = new_api_key()
    assert parse_api_key(made.key) == (made.key_id, made.key.split("_", 2)[2])
    assert parse_api_key(made.key + "\n") is None  # "$" would have let this through
    assert parse_api_key(" " + made.key) is None
    secret = made.key.split("_", 2)[2]
    assert made.key_hash == digest("api_key", secret)
    assert digest("session", secret) != made.key_hash  # each kind of secret its own digest
    assert secret not in made.key_hash


def test_attempts_are_counted_when_they_start_and_a_success_gives_its_back() -> None:
    budget = AttemptBudget(3, window_seconds=60)
    assert [budget.take("a", now=0.0) for _ in range(3)] == [None, None, None]
    assert budget.take("a", now=1.0) == pytest.approx(59.0)
    assert budget.take("b", now=1.0) is None  # another key has its own budget
    budget.give_back("a")
    assert budget.take("a", now=2.0) is None
    assert budget.take("a", now=60.5) is None  # the first attempt left the window


def test_usernames_and_passwords() -> None:
    assert username_problem("ada.lovelace-1") is None
    assert username_problem("Ada") is not None  # callers lower-case first
    assert username_problem("-ada") is not None
    assert username_problem("a" * 65) is not None
    assert password_problem("short", "ada") is not None
    assert password_problem("ADA.LOVELACE.1815", "ada.lovelace.1815") is not None
    assert password_problem("a long enough passphrase", "ada") is None
    assert password_problem("x" * 257, "ada") is not None
