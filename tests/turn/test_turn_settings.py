"""TURN settings as an operator writes them, and the SDK's choice among the servers it gets.

No coturn here (tests/turn/test_turn_credentials.py has the real one): the
URLs each say what is wrong, the secret never shows, and a bot picks the one
TURN URL aiortc will use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess

import pytest
from pydantic import SecretStr, ValidationError
from support.server import CLI

from meetwarden import protocol as wire
from meetwarden.client_sdk import IceOptions, InvalidArgumentError
from meetwarden.server.config import Settings
from meetwarden.server.turn import TurnCredentials, check_turn_url

SECRET = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    "url",
    [
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp",
        "turns:turn.example.org:443?transport=tcp",
        "turns:turn.example.org",
        "turn:203.0.113.10",
        "turn:[2001:db8::1]:3478",
    ],
)
def test_turn_urls_browsers_take_are_taken(url: str) -> None:
    assert check_turn_url(url) == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("turn://turn.example.org:3478", "has no // (write turn:turn.example.org:3478)"),
        ("stun:turn.example.org", "is a STUN server"),
        ("https://turn.example.org", "write it as turn:"),
        ("turn:turn.example.org:99999", "from 1 to 65535"),
        ("turn:turn.example.org?transport=tls", "?transport=udp or ?transport=tcp"),
        ("turns:turn.example.org?transport=udp", "runs on TCP"),
        ("turn:bad_host", "not a host name"),
        ("turn:[not-v6]", "not a host name"),
    ],
)
def test_a_wrong_turn_url_says_what_would_be_right(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=r".") as error:
        check_turn_url(url)
    assert says in str(error.value)


def test_turn_settings_come_from_the_environment_and_the_secret_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEETWARDEN_TURN_URL", "turn:t.example:3478?transport=udp, turns:t.example")
    monkeypatch.setenv("MEETWARDEN_TURN_SECRET", SECRET)
    monkeypatch.setenv("MEETWARDEN_TURN_TTL", "3600")
    settings = Settings()
    turn = settings.turn
    assert turn is not None
    assert turn.urls == ("turn:t.example:3478?transport=udp", "turns:t.example")
    assert turn.ttl == 3600
    assert settings.turn_problem() is None
    for shown in (repr(settings), str(settings), repr(turn), settings.model_dump_json()):
        assert SECRET not in shown


def test_a_turn_url_without_a_secret_is_a_problem_and_a_bad_ttl_an_error() -> None:
    lonely = Settings(turn_urls=("turn:t.example",))
    assert lonely.turn is None
    assert "needs the secret" in (lonely.turn_problem() or "")
    assert Settings(turn_secret=SECRET).turn is None  # serve logs a warning; nothing fails
    with pytest.raises(ValidationError, match="greater than or equal to 60"):
        Settings(turn_ttl=5)


def test_each_credential_is_the_participants_and_expires_after_the_ttl() -> None:
    turn = TurnCredentials(("turn:t.example",), SecretStr(SECRET), ttl=600)
    (server,) = turn.ice_servers("p_abc", now=1_800_000_000.7)
    assert server.urls == ["turn:t.example"]
    assert server.username == "1800000600:p_abc"
    expected = hmac.new(SECRET.encode(), server.username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(server.credential) == expected
    assert server.credential not in repr(server)


def test_serve_refuses_turn_settings_it_cannot_use_in_one_sentence_without_the_secret() -> None:
    done = subprocess.run(
        [CLI, "serve", "--port", "0", "--turn-url", "turn://t.example", "--turn-secret", SECRET],
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = (done.stdout + done.stderr).strip()
    assert done.returncode == 2
    assert said.splitlines() == [
        "meetwarden: turn_urls: Value error, 'turn://t.example': a TURN URL has no // (write "
        "turn:t.example) (check --turn-url or MEETWARDEN_TURN_URL)."
    ]
    assert SECRET not in said


GIVEN = [
    wire.IceServer(
        urls=[
            "turn:[2001:db8::1]:3478",
            "turn:t.example:3478?transport=udp",
            "turn:t.example:3478?transport=tcp",
            "turns:t.example:443?transport=tcp",
        ],
        username="1800000600:p_abc",
        credential="c3VwZXI=",
    )
]


@pytest.mark.parametrize(
    ("turn", "url"),
    [
        ("first", "turn:t.example:3478?transport=udp"),  # aioice cannot read an IPv6 literal
        ("udp", "turn:t.example:3478?transport=udp"),
        ("tcp", "turn:t.example:3478?transport=tcp"),
        ("tls", "turns:t.example:443?transport=tcp"),
    ],
)
def test_a_bot_hands_aiortc_the_one_turn_url_it_chose(turn: str, url: str) -> None:
    chosen = IceOptions(turn=turn).choose(GIVEN)  # type: ignore[arg-type]
    assert chosen is not None
    assert chosen.urls == [url]
    assert (chosen.username, chosen.credential) == ("1800000600:p_abc", "c3VwZXI=")


def test_a_bot_without_turn_or_without_a_matching_url_uses_none() -> None:
    assert IceOptions(turn="none").choose(GIVEN) is None
    assert IceOptions().choose([]) is None
    udp_only = [GIVEN[0].model_copy(update={"urls": ["turn:t.example"]})]
    assert IceOptions(turn="tls").choose(udp_only) is None


def test_ice_options_that_cannot_work_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="choose one of 'first'"):
        IceOptions(turn="quic")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="needs a TURN server"):
        IceOptions(turn="none", relay_only=True)
