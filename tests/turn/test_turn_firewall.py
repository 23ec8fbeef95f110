"""A client behind a firewall that drops UDP still joins: its media goes through TURN.

The client is an SDK bot in its own process on a second test host (a network
namespace whose iptables drops every UDP datagram), reaching the server and
coturn over TCP only. The server offers its media on an address that host
could reach over UDP, were UDP not blocked; coturn relays between the two. An
honest participant on this side counts, at the wire, what arrives from the
bot: frames through TURN over TCP and over TLS; nothing from the same bot
without TURN, nor through a TLS server whose certificate it cannot check. The
policy still holds on the relayed path: a microphone muted on entry is not
forwarded until it may be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.coturn import Coturn, start_coturn
from support.counting import HonestCounter
from support.enforced import Meeting, honest, host_meeting
from support.firewalled import FirewalledHost, firewalled_host
from support.relay_bot import BotProcess
from support.server import RunningServer

from meetwarden.client_sdk.media import loopback_only

from .conftest import turn_server

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(180)]
POLICY = {
    "entry": {"waiting_room": {"enabled": False}},
    "audio": {"mute_on_entry": True, "unmute": "self"},
}


@pytest.fixture(autouse=True)
def _loopback() -> None:
    loopback_only()  # this side's participants gather on 127.0.0.1, where the server is


@pytest.fixture(scope="module")
def firewalled() -> Iterator[FirewalledHost]:
    with firewalled_host() as host:
        yield host


@pytest.fixture(scope="module")
def coturn(
    tmp_path_factory: pytest.TempPathFactory, firewalled: FirewalledHost
) -> Iterator[Coturn]:
    """coturn on the address the firewalled host reaches (its 'public' address)."""
    running = start_coturn(
        tmp_path_factory.mktemp("coturn"),
        firewalled.gateway,
        peers=("127.0.0.1", firewalled.gateway),  # the server's media addresses
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, coturn: Coturn, firewalled: FirewalledHost
) -> Iterator[RunningServer]:
    # Media on the gateway address too: the firewall, not the address, keeps the bot's
    # UDP away from the server.
    running = turn_server(tmp_path_factory, coturn, host=firewalled.gateway)
    running.extra_args += ["--rtc-address", firewalled.gateway]
    running.start()
    yield running
    running.stop()


@pytest.fixture
async def meeting(server: RunningServer) -> AsyncIterator[Meeting]:
    hosted = await host_meeting(server.url, POLICY)
    yield hosted
    await hosted.close()


@pytest.fixture
async def bots(tmp_path: Path) -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        await bot.stop()


async def start_bot(
    bots: list[BotProcess],
    firewalled: FirewalledHost,
    meeting: Meeting,
    tmp_path: Path,
    name: str,
    *args: str,
    env: dict[str, str] | None = None,
) -> tuple[BotProcess, str]:
    """A bot on the firewalled host, admitted and publishing; returns it and its id."""
    errors = tmp_path / f"{name.split()[0].lower()}.stderr"
    bot = await BotProcess.start(
        firewalled.command(), meeting.join_url, "--name", name, *args, errors=errors, env=env
    )
    bots.append(bot)
    admitted = await bot.expect("admitted")
    published = await bot.expect("published")
    assert sorted(map(tuple, published["decisions"])) == [
        ("camera", True, "published"),
        ("microphone", True, "published_muted"),
    ]
    return bot, str(admitted["participant_id"])


async def counting(meeting: Meeting) -> HonestCounter:
    carol = await honest(meeting, "Carol Jones")
    await carol.media.subscribe()
    return carol


async def test_a_client_that_cannot_reach_udp_sends_its_media_through_turn_over_tcp(
    firewalled: FirewalledHost,
    coturn: Coturn,
    meeting: Meeting,
    bots: list[BotProcess],
    tmp_path: Path,
) -> None:
    carol = await counting(meeting)
    tess, tess_id = await start_bot(
        bots, firewalled, meeting, tmp_path, "Tess Turner", "--turn", "tcp"
    )
    assert tess.said[0]["urls"] == coturn.urls("udp", "tcp", "tls")
    connected = await tess.expect("connected", "failed")
    assert connected == {"event": "connected", "candidate": "relay"}
    await carol.wire.flows(tess_id, "camera")
    track = await carol.media.wait_for_track(tess_id, "camera")
    await carol.media.count_frames(track, lambda t: t.frames >= 10)
    # coturn's own account: a TCP connection from the firewalled host, and an allocation
    # made with Tess's credential.
    said = coturn.log()
    assert f"tcp or tls connected to: {firewalled.address}:" in said
    assert f":{tess_id}>: incoming packet ALLOCATE processed, success" in said
    # Enforcement holds through the relay: the microphone, muted on entry, sends all
    # along and reaches nobody...
    before = (await tess.ask("stats", "stats"))["sent"]
    measured = await carol.wire.window(1.5)
    after = (await tess.ask("stats", "stats"))["sent"]
    assert after["microphone"] - before["microphone"] > 20, "Tess's microphone kept sending"
    assert measured[(tess_id, "camera")] > 0, "the counter receives Tess meanwhile"
    assert carol.wire.of(tess_id, "microphone") == 0
    # ...until the policy lets her unmute: then the same counter hears it.
    assert (await tess.ask("unmute", "unmuted"))["allowed"]
    await carol.wire.flows(tess_id, "microphone")


async def test_through_turn_over_tls_with_a_certificate_the_client_checks(
    firewalled: FirewalledHost,
    coturn: Coturn,
    meeting: Meeting,
    bots: list[BotProcess],
    tmp_path: Path,
) -> None:
    carol = await counting(meeting)
    trusting = {"SSL_CERT_FILE": str(coturn.ca_file)}  # Python's default context reads it
    tia, tia_id = await start_bot(
        bots,
        firewalled,
        meeting,
        tmp_path,
        "Tia Lee",
        "--turn",
        "tls",
        "--relay-only",
        env=trusting,
    )
    assert await tia.expect("connected", "failed") == {"event": "connected", "candidate": "relay"}
    await carol.wire.flows(tia_id, "camera")
    track = await carol.media.wait_for_track(tia_id, "camera")
    await carol.media.count_frames(track, lambda t: t.frames >= 10)


async def test_without_turn_or_with_an_untrusted_certificate_nothing_gets_through(
    firewalled: FirewalledHost,
    meeting: Meeting,
    bots: list[BotProcess],
    tmp_path: Path,
) -> None:
    """The controls: the same bot on the same host, once without TURN and once through a
    TLS server whose certificate nobody vouches for; the server gives up on both."""
    carol = await counting(meeting)
    nora, nora_id = await start_bot(
        bots, firewalled, meeting, tmp_path, "Nora Direct", "--turn", "none"
    )
    uma, uma_id = await start_bot(
        bots, firewalled, meeting, tmp_path, "Uma Untrusted", "--turn", "tls"
    )
    for bot in (nora, uma):
        failed = await bot.expect("error", within=60)
        assert failed["code"] == "media_failed"
    assert carol.wire.of(nora_id, "camera") == 0
    assert carol.wire.of(uma_id, "camera") == 0
    assert not any(said["event"] == "connected" for said in nora.said + uma.said)
    # Control: the same counter, in the same meeting, receives a bot that uses TURN.
    _, tess_id = await start_bot(
        bots, firewalled, meeting, tmp_path, "Tess Turner", "--turn", "tcp"
    )
    await carol.wire.flows(tess_id, "camera")
