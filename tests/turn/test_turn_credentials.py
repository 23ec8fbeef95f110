"""TURN credentials as a real coturn judges them: made for each admitted person, for no one else.

A server started with coturn's URLs and secret gives everyone it admits the
TURN servers with a credential of their own; coturn grants an allocation with
it over UDP, TCP and TLS. A credential whose time has passed, or whose
username was changed, coturn refuses. Nobody waiting, refused or sent away
gets one; a person who resumes their place gets a fresh one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import ssl
import time
from collections.abc import AsyncIterator

import pytest
from aioice import stun, turn
from support.adversary import Adversary
from support.coturn import Coturn
from support.enforced import Meeting, honest, host_meeting
from support.server import RunningServer

from meetwarden import protocol as wire

from .conftest import TTL

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
WAITING = {"entry": {"waiting_room": {"enabled": True}}}


@pytest.fixture
async def meeting(server: RunningServer) -> AsyncIterator[Meeting]:
    hosted = await host_meeting(server.url, WAITING)
    yield hosted
    await hosted.close()


async def allocate(coturn: Coturn, transport: str, username: str, password: str) -> str:
    """Makes (then releases) an allocation on coturn; returns its relayed address."""
    address, port = coturn.address, coturn.tls_port if transport == "tls" else coturn.port
    context = ssl.create_default_context(cafile=str(coturn.ca_file))
    relay, _ = await turn.create_turn_endpoint(
        asyncio.DatagramProtocol,
        (address, port),
        username,
        password,
        ssl=context if transport == "tls" else None,
        transport="udp" if transport == "udp" else "tcp",
    )
    try:
        host, relayed_port = relay.get_extra_info("sockname")
        return f"{host}:{relayed_port}"
    finally:
        relay.close()


def password_for(secret: str, username: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()


def only_server(servers: list[wire.IceServer]) -> wire.IceServer:
    assert len(servers) == 1
    return servers[0]


async def test_an_admitted_participant_gets_turn_servers_coturn_takes_over_udp_tcp_and_tls(
    coturn: Coturn, meeting: Meeting
) -> None:
    bob = await honest(meeting, "Bob Smith")  # waits, then the host admits him
    given = only_server(bob.ice_servers)
    assert given.urls == coturn.urls("udp", "tcp", "tls")
    expiry, participant = given.username.split(":")
    assert participant == bob.participant_id
    assert abs(int(expiry) - (time.time() + TTL)) < 30
    assert given.credential not in repr(given)
    for transport in ("udp", "tcp", "tls"):
        relayed = await allocate(coturn, transport, given.username, given.credential)
        assert relayed.startswith(coturn.address)
    # The host has a credential of their own.
    host_given = only_server(meeting.host.ice_servers)
    assert host_given.username.endswith(f":{meeting.host.participant_id}")
    assert host_given.credential != given.credential


async def test_coturn_refuses_an_expired_or_altered_credential(
    coturn: Coturn, meeting: Meeting
) -> None:
    given = meeting.host.ice_servers[0]
    expiry, participant = given.username.split(":")
    # Control: the credential as given is taken.
    await allocate(coturn, "tcp", given.username, given.credential)
    expired = f"{int(time.time()) - 5}:{participant}"
    longer = f"{int(expiry) + 86_400}:{participant}"
    someone_else = f"{expiry}:p_someoneelse"
    attempts = {
        "expired, though signed with the right secret": (
            expired,
            password_for(coturn.secret, expired),
        ),
        "expiry pushed back": (longer, given.credential),
        "another participant's name": (someone_else, given.credential),
        "signed with another secret": (given.username, password_for("guess", given.username)),
    }
    for what, (username, password) in attempts.items():
        for transport in ("udp", "tcp"):
            with pytest.raises(stun.TransactionFailed) as refused:
                await allocate(coturn, transport, username, password)
            assert refused.value.response.attributes["ERROR-CODE"][0] == 401, what


async def test_nobody_waiting_refused_or_sent_away_gets_turn_credentials(
    server: RunningServer, meeting: Meeting
) -> None:
    waiting = Adversary(server.url, meeting.meeting_id, name="Walt Waiting")
    denied = Adversary(server.url, meeting.meeting_id, name="Dana Denied")
    try:
        assert (await waiting.join())["type"] == "waiting"
        assert (await denied.join())["type"] == "waiting"
        # Trying again, resuming, asking for media: still waiting, still nothing.
        assert (await waiting.resume())["type"] == "waiting"
        await waiting.request({"type": "subscribe"})
        assert denied.participant_id is not None
        await meeting.host.deny(denied.participant_id)
        await denied.wait_for(lambda m: m["type"] == "dismissed", 20)
        await meeting.host.lock()
        refused = Adversary(server.url, meeting.meeting_id, name="Rita Refused")
        assert (await refused.join())["type"] == "join_refused"
        await refused.close()
        # Control: the same reading finds the credential of someone admitted.
        await meeting.host.lock(False)
        assert waiting.participant_id is not None
        await meeting.host.admit(waiting.participant_id)
        admitted = await waiting.wait_for(lambda m: m["type"] == "admitted", 20)
    finally:
        await waiting.close()
        await denied.close()
    index = waiting.messages.index(admitted)
    for person, seen in (
        ("waiting", waiting.texts[:index]),
        ("denied", denied.texts),
        ("refused", refused.texts),
    ):
        assert not any("turn:" in text or "ice_servers" in text for text in seen), person
    assert admitted["ice_servers"][0]["username"].endswith(f":{waiting.participant_id}")


async def test_a_person_who_resumes_their_place_gets_a_fresh_credential(
    server: RunningServer, meeting: Meeting
) -> None:
    zoe = Adversary(server.url, meeting.meeting_id, name="Zoe Quinn")
    try:
        assert (await zoe.join())["type"] == "waiting"
        assert zoe.participant_id is not None
        await meeting.host.admit(zoe.participant_id)
        first = await zoe.wait_for(lambda m: m["type"] == "admitted", 20)
        # Expiries are whole seconds: the connection drops once the clock is in the next.
        now = time.time()
        await asyncio.sleep(math.ceil(now) - now + 0.05)
        resumed_at = int(time.time())
        again = await zoe.resume()
    finally:
        await zoe.close()
    assert again["type"] == "admitted"
    before, after = first["ice_servers"][0], again["ice_servers"][0]
    assert after["username"].endswith(f":{zoe.participant_id}")
    assert int(after["username"].split(":")[0]) >= resumed_at + TTL
    assert int(after["username"].split(":")[0]) > int(before["username"].split(":")[0])
    assert after["credential"] != before["credential"]


async def test_a_credential_relays_to_the_media_server_only(
    coturn: Coturn, meeting: Meeting
) -> None:
    """Whoever is admitted holds a credential; coturn configured as docs/operating.md says
    relays for it to the media server's address, not to the rest of the network."""
    given = only_server(meeting.host.ice_servers)
    loop = asyncio.get_running_loop()
    server = (coturn.address, coturn.port)
    _, client = await loop.create_datagram_endpoint(
        lambda: turn.TurnClientUdpProtocol(
            server,
            username=given.username,
            password=given.credential,
            lifetime=600,
            channel_refresh_time=500,
        ),
        remote_addr=server,
    )
    try:
        await client.connect()
        await client.channel_bind(0x4000, ("127.0.0.1", 9))  # control: the media server
        for elsewhere in ("192.0.2.1", "10.0.0.1", "8.8.8.8"):
            with pytest.raises(stun.TransactionFailed) as refused:
                await client.channel_bind(0x4001, (elsewhere, 9))
            assert refused.value.response.attributes["ERROR-CODE"][0] == 403, elsewhere
    finally:
        await client.delete()
