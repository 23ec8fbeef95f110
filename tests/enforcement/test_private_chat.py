"""A private message reaches its recipient and its sender, nobody else, and only where
the policy lets the sender write to that person.

The adversary is a modified client: it writes privately to a participant the
policy's ``chat.private: hosts`` forbids, to someone still in the waiting room,
and to a participant of another meeting on the same server. Each is refused
with its reason and rule, and nobody receives it. An honest third participant
keeps the text of everything it is sent: it receives no private message
addressed to someone else, beside the control that the same participant does
receive the public chat sent after them (messages on one socket arrive in
order, so that control is also the wait: nothing sent before it is still on
its way). The audit log records who wrote to whom, never the text.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from support.adversary import Adversary
from support.counting import HonestCounter
from support.enforced import Meeting, Scene, admit_adversary, honest

from meetwarden.client_sdk import ChatReceived, PolicyRefusedError

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]
POLICY = {"chat": {"allowed": "everyone", "private": "hosts"}}


def _secret() -> str:
    return f"private-{secrets.token_hex(6)}"


def _chats(person: HonestCounter) -> list[dict[str, Any]]:
    """Every chat message the server sent this participant, as it arrived."""
    return [m for m in map(json.loads, person.texts) if m["type"] == "chat"]


async def _public_control(eve: Adversary, *people: HonestCounter) -> None:
    """Eve writes to everyone; each of ``people`` receives it (the control and the wait)."""
    line = f"public-{secrets.token_hex(6)}"
    result = await eve.request({"type": "chat", "text": line})
    assert (result["allowed"], result["reason"]) == (True, "chat_sent")
    for person in people:
        await person.wait_for(ChatReceived, lambda e: e.message.text == line)


async def _write(eve: Adversary, to: str | None, text: str) -> dict[str, Any]:
    assert to is not None
    return await eve.request({"type": "chat", "text": text, "to": to})


def _refusal(result: dict[str, Any]) -> tuple[bool, str, str]:
    return result["allowed"], result["reason"], result["rule"]


async def _people(scene: Scene) -> tuple[Meeting, HonestCounter, HonestCounter, Adversary]:
    meeting = await scene.meeting(POLICY)
    carol = await honest(meeting, "Carol Jones")
    dan = await honest(meeting, "Dan Brown")
    eve = scene.adversary(meeting.meeting_id)
    await admit_adversary(meeting, eve)
    return meeting, carol, dan, eve


async def test_a_private_message_the_policy_forbids_reaches_nobody(scene: Scene) -> None:
    meeting, carol, dan, eve = await _people(scene)
    forbidden = _secret()
    refused = await _write(eve, dan.participant_id, forbidden)
    assert _refusal(refused) == (False, "chat_private_hosts_only", "/chat/private")
    assert "host and co-hosts only" in refused["message"]
    # Allowed: to the host. Only the host and Eve (the echo) get it.
    to_host = _secret()
    sent = await _write(eve, meeting.host.participant_id, to_host)
    assert _refusal(sent) == (True, "chat_sent_privately", "/chat/private")
    received = await meeting.host.wait_for(ChatReceived, lambda e: e.message.text == to_host)
    assert received.message.to == meeting.host.participant_id
    echo = await eve.wait_for(lambda m: m["type"] == "chat" and m["text"] == to_host)
    assert echo["to"] == meeting.host.participant_id
    # The host may write to anyone privately: to Dan, and Carol does not see it.
    to_dan = _secret()
    await meeting.host.chat(to_dan, to=dan.participant_id)
    await dan.wait_for(ChatReceived, lambda e: e.message.text == to_dan)
    # Control: everyone receives the public line Eve sends after all of the above.
    await _public_control(eve, carol, dan, meeting.host)
    for person in (carol, dan, meeting.host):
        assert not person.mentions({forbidden}), "the refused message reached someone"
    assert not carol.mentions({to_host, to_dan})
    assert not dan.mentions({to_host})
    strays = [c for c in _chats(carol) if c["to"] not in (None, carol.participant_id)]
    assert strays == [], "Carol received private messages addressed to someone else"
    assert [c["to"] for c in _chats(carol)] == [None], "Carol's one chat is the public control"


async def test_nobody_waiting_or_in_another_meeting_can_be_written_to(scene: Scene) -> None:
    meeting, carol, _, eve = await _people(scene)
    wendy = scene.adversary(meeting.meeting_id, "Wendy Wait")
    meeting.people.append(wendy)
    assert (await wendy.join())["type"] == "waiting"
    other = await scene.meeting(POLICY, host_name="Olga Other")
    frank = await honest(other, "Frank Field")
    to_waiting, to_other = _secret(), _secret()
    for to, text in ((wendy.participant_id, to_waiting), (frank.participant_id, to_other)):
        # From the host too (hosts may write to anyone in their meeting): the same refusal,
        # which says nothing of who waits.
        assert _refusal(await _write(eve, to, text)) == (False, "unknown_participant", "")
        with pytest.raises(PolicyRefusedError) as caught:
            await meeting.host.chat(text, to=to)
        assert caught.value.reason == "unknown_participant"
    # Controls: Wendy, once admitted, and Frank, in his own meeting, do receive chat.
    assert wendy.participant_id is not None
    await meeting.host.admit(wendy.participant_id)
    await wendy.wait_for(lambda m: m["type"] == "admitted")
    line = f"public-{secrets.token_hex(6)}"
    await eve.request({"type": "chat", "text": line})
    await wendy.wait_for(lambda m: m["type"] == "chat" and m["text"] == line)
    await other.host.chat(line)
    await frank.wait_for(ChatReceived, lambda e: e.message.text == line)
    assert not wendy.mentions({to_waiting, to_other})
    assert not frank.mentions({to_waiting, to_other})
    assert not carol.mentions({to_waiting, to_other})


async def test_the_audit_log_records_who_wrote_to_whom_never_the_text(scene: Scene) -> None:
    meeting, _, dan, eve = await _people(scene)
    allowed, refused = _secret(), _secret()
    await _write(eve, meeting.host.participant_id, allowed)
    await _write(eve, dan.participant_id, refused)
    entries = await meeting.api.audit(event_type="chat")
    written = [
        (
            e["participant"],
            e["event"]["to"],
            *(e["decision"][k] for k in ("allowed", "reason", "rule")),
        )
        for e in entries
    ]
    assert written == [
        (
            eve.participant_id,
            meeting.host.participant_id,
            True,
            "chat_sent_privately",
            "/chat/private",
        ),
        (eve.participant_id, dan.participant_id, False, "chat_private_hosts_only", "/chat/private"),
    ]
    export = await meeting.api.export_audit()
    assert allowed not in export
    assert refused not in export
