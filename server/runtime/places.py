"""The places of a live meeting's people, saved so that a restart resets no one.

After its decisions a Room saves (at most a few times a second, off its turn)
where each person stands: waiting or admitted, role, mute, permission to
speak, hand, grants, camera check, each person's current resume token id, and
the running timers. A restarted server loads this with the meeting: everyone
is then away (their connections died with the old process) and may resume
their place within the policy's ``entry.reconnect_seconds``; no host mute,
grant or waiting-room place is silently reset. Times are stored as Unix time,
since each Room's own clock starts with it.

A server killed outright loses at most the last ``writes.SAVE_DELAY`` seconds
of changes; a graceful stop saves every Room first.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic_core import to_json

from meetwarden.policies.effects import StartTimer
from meetwarden.policies.state import Grant, Participant

if TYPE_CHECKING:
    from .room import Room

__all__ = ["Saved", "restore", "snapshot"]

VERSION = 1


def _compact(value: object) -> str:
    """Compact JSON (pydantic-core's encoder: ``json.dumps`` at a fifth of the cost)."""
    return to_json(value).decode()


Saved = dict[str, tuple[Participant, str | None, str]]
"""Each person's saved text, kept while the person (a frozen object, replaced on any
change) and their resume token stay the same: a save encodes only who changed."""


def _person(room: Room, person: Participant, token_id: str | None) -> str:
    return _compact(
        {
            "id": person.id,
            "name": person.name,
            "role": person.role,
            "status": person.status,
            "joined_at": room.wall(person.joined_at),
            "waiting_since": room.wall(person.waiting_since),
            "invited": person.invited,
            "identities": sorted(person.identities),
            "password_ok": person.password_ok,
            "muted": person.muted,
            "may_unmute": person.may_unmute,
            "hand_raised": person.hand_raised,
            "grants": [
                {"kind": g.kind, "grant_id": g.grant_id, "expires_at": room.wall(g.expires_at)}
                for g in person.grants
            ],
            "camera": person.camera,
            "connected": person.connected,
            "resume_token_id": token_id,
        }
    )


def snapshot(room: Room, saved: Saved | None = None) -> str:
    """The Room's places as JSON text (times as Unix time); ``saved`` keeps each
    person's text for the next snapshot."""
    kept: Saved = {}
    people: list[str] = []
    for pid, person in room.state.participants.items():
        token = room.resume_tokens.get(pid)
        token_id = token[1] if token is not None else None
        cached = saved.get(pid) if saved is not None else None
        if cached is None or cached[0] is not person or cached[1] != token_id:
            cached = (person, token_id, _person(room, person, token_id))
        kept[pid] = cached
        people.append(cached[2])
    if saved is not None:
        saved.clear()
        saved.update(kept)
    timers = [
        {
            "kind": plan.kind,
            "participant": plan.participant,
            "fire_at": room.wall(plan.fire_at),
            "token": plan.token,
        }
        for plan in room.timers.plans()
    ]
    head = _compact({"version": VERSION, "next_grant_id": room.state.next_grant_id})
    tail = _compact({"timers": timers})
    return f'{head[:-1]},"people":[{",".join(people)}],{tail[1:]}'


def restore(room: Room, document: str) -> list[str]:
    """Put the saved places back into a Room just loaded (before anyone can reach it);
    returns the ids of the people whose connection the restart ended."""
    body = json.loads(document)
    if body.get("version") != VERSION:
        return []
    at = room.at_of
    participants: dict[str, Participant] = {}
    connected: list[str] = []
    for saved in body["people"]:
        person = Participant(
            id=saved["id"],
            name=saved["name"],
            role=saved["role"],
            status=saved["status"],
            joined_at=at(saved["joined_at"]),
            # Saved before waiting_since was kept: the join is the best guess.
            waiting_since=at(saved.get("waiting_since", saved["joined_at"])),
            invited=saved["invited"],
            identities=frozenset(saved["identities"]),
            password_ok=saved["password_ok"],
            muted=saved["muted"],
            may_unmute=saved["may_unmute"],
            hand_raised=saved["hand_raised"],
            grants=tuple(
                Grant(g["kind"], g["grant_id"], at(g["expires_at"])) for g in saved["grants"]
            ),
            camera=saved["camera"],
            connected=saved["connected"],
        )
        participants[person.id] = person
        if person.connected:
            connected.append(person.id)
        if saved["resume_token_id"] is not None:
            room.resume_tokens[person.id] = ("", saved["resume_token_id"])
    room.state = replace(room.state, participants=participants, next_grant_id=body["next_grant_id"])
    for timer in body["timers"]:
        if timer["participant"] in participants:
            room.timers.start(
                StartTimer(
                    timer["kind"], timer["participant"], at(timer["fire_at"]), timer["token"]
                )
            )
    return connected
