"""Fuzz target for what a participant's socket receives: ``client_message``.

An input is a sequence of text frames (``harness.frames``); the first byte of
each says whose socket it arrives on: the host's (0), an admitted
participant's (1) or a guest's in the waiting room (2), all three joined to a
real Room of a real Registry on a SQLite store (media off: the ``publish`` and
``answer`` targets drive the media plane). Each frame is read the way the
socket reads it (``ws.read_frame``) and acted on the way the socket acts on it
(``participant_requests.handle_request``); a frame that is not UTF-8 ends its
socket with 1007 before the server reads it, as uvicorn does, one over the size
cap ends it with 1009,
and so does the reader after too many malformed ones; an ended socket goes
through ``ws._finish`` (the person is away and may resume). The socket's rate
limit, which only ever refuses, is left out.

The promise: each frame gets an answer with its id (an ``error`` with a code,
or a ``result`` or the request's own reply); no exception escapes and nothing
is logged as an error; everything the server sends is a valid server message
of the protocol; no rule fails (``rule_error``); nothing waits for ever; and
unless the meeting ended, the Room still answers a request afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from pydantic import ValidationError

from meetwarden import protocol as wire
from meetwarden.policies.capabilities import Capabilities, Scanner
from meetwarden.policies.events import AdmitRequested, JoinRequested
from meetwarden.server.auth import Passwords, Tokens
from meetwarden.server.files.access import FileAccess
from meetwarden.server.files.tokens import FileTokens
from meetwarden.server.participant_requests import handle_request
from meetwarden.server.runtime.audit import AuditWriter
from meetwarden.server.runtime.registry import Registry
from meetwarden.server.runtime.room import Room, RoomClosedError
from meetwarden.server.runtime.session import Session
from meetwarden.server.runtime.writes import StoreWrites
from meetwarden.server.store import Store
from meetwarden.server.ws import MALFORMED_LIMIT, _finish, read_frame

from .harness import CrashError, Harness, Target, frames, joined, mutated_bytes
from .json_mutations import json_documents, mutated_json
from .policy import EXAMPLES

__all__ = ["CLIENT_MESSAGE", "client_message_seeds"]

HOST, PARTICIPANT, GUEST = "h", "p", "w"
SENDERS = (HOST, PARTICIPANT, GUEST)
POLICY: dict[str, Any] = {
    "screen_share": {"allowed": "with_grant"},
    "file_share": {"allowed": "with_grant"},
}
"""The default policy, with grants, so that host grants and participant requests matter."""
ANSWERS = {"result", "error", "file_token", "publish_answer", "subscribe_offer"}
INPUT_SECONDS = 30.0
"""No input needs anywhere near this; a Room still waiting after it is stuck."""
FLUSH_EVERY = 100
"""Inputs between waits for the audit log to be written (so its queue stays short)."""
PROBE_ID = 2**53

# A server that can do what any policy asks, so that policy updates reach the engine.
_CAPABLE = Capabilities(
    media=True, scanner=Scanner(configured=True, reachable=True), max_upload_bytes=1 << 30
)


class _ErrorLog(logging.Handler):
    """Every record at ERROR or above under the ``meetwarden`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def check(self) -> None:
        if self.records:
            record, self.records = self.records[0], []
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {record.exc_info[1]!r}"
            raise CrashError(f"logged as an error: {text}"[:2000])


def _read(session: Session) -> list[dict[str, Any]]:
    """What the server sent on this socket since last read; each must be a server message."""
    sent = []
    while not session.outbox.empty():
        text = session.outbox.get_nowait()
        if text is None:
            continue
        try:
            message = wire.SERVER_ADAPTER.validate_json(text)
        except ValidationError as error:
            raise CrashError(f"the server sent an invalid message {text[:300]}: {error}") from None
        if isinstance(message, wire.Result) and message.reason == "rule_error":
            raise CrashError(f"a rule failed: {message.message}")
        sent.append(json.loads(text))
    return sent


class _Meeting:
    """One Room with a host, an admitted participant and a guest waiting, and their sockets."""

    def __init__(self, registry: Registry, room: Room, sessions: dict[str, Session]) -> None:
        self.registry = registry
        self.room = room
        self.sessions = sessions
        self.open = set(sessions)
        self.malformed = dict.fromkeys(sessions, 0)
        self.files = FileAccess(registry, FileTokens(b"f" * 32))

    async def end_socket(self, sender: str) -> None:
        """The socket ends as ``ws.meeting_socket`` ends it (the person may resume)."""
        if sender in self.open:
            self.open.discard(sender)
            await _finish(self.room, self.sessions[sender], None)

    async def frame(self, sender: str, raw: bytes) -> None:
        """One frame on the sender's socket, as ``ws.meeting_socket`` takes it."""
        session = self.sessions[sender]
        if sender not in self.open or session.closing:
            await self.end_socket(sender)
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            await self.end_socket(sender)  # uvicorn closes with 1007 before the app reads it
            return
        if len(text) > wire.MAX_MESSAGE_BYTES:
            await self.end_socket(sender)  # the reader closes with 1009
            return
        message = read_frame(text)
        if isinstance(message, wire.Error):
            if not message.code or not message.message:
                raise CrashError(f"an error without a code or a sentence: {message!r}")
            self.malformed[sender] += 1
            if self.malformed[sender] > MALFORMED_LIMIT:
                await self.end_socket(sender)  # the reader closes with 1007
            return
        try:
            keep = await handle_request(self.room, session, message, self.files, _CAPABLE)
        except RoomClosedError:
            if not self.room.closed:
                raise
            await self.end_socket(sender)  # the socket closes: "the meeting is over"
            return
        answers = [
            sent
            for sent in _read(session)
            if sent["type"] in ANSWERS and sent.get("ref") == message.id
        ]
        if not answers:
            raise CrashError(f"no answer to {message.type} (id {message.id}) from {sender}")
        if not keep:
            await self.end_socket(sender)

    async def still_answers(self) -> None:
        """Unless the meeting is over: a later request is answered (on a socket still
        open, or else a join's decision)."""
        if self.room.ended or self.room.closed:
            return
        for sender in sorted(self.open):
            if not self.sessions[sender].closing:
                probe = {"type": "raise_hand", "id": PROBE_ID}
                await self.frame(sender, json.dumps(probe).encode())
                return
        late = Session("late", device_id="d-late", device_token="t")
        await self.room.join(JoinRequested(participant="late", name="Dana Late"), late)


class _ClientMessage(Harness[bytes]):
    def __init__(self, folder: Path, store: Store) -> None:
        self.folder = folder
        self.store = store
        self.audit = AuditWriter(store)
        self.writes = StoreWrites()
        self.audit.start()
        self.writes.start()
        self.errors = _ErrorLog()
        logging.getLogger("meetwarden").addHandler(self.errors)
        self.inputs = 0
        self.tokens = Tokens(b"k" * 32)
        self.passwords = Passwords()  # argon2 parameters, checked once (85 ms)

    async def _meeting(self) -> _Meeting:
        registry = Registry(
            store=self.store,
            tokens=self.tokens,
            passwords=self.passwords,
            audit=self.audit,
            writes=self.writes,
            idle_seconds=3600,
        )
        created = await registry.create_meeting(POLICY, None)
        room = await registry.room(created.meeting_id)
        assert room is not None
        sessions = {who: Session(who, device_id=f"d-{who}", device_token="t") for who in SENDERS}
        names = {HOST: "Alice Host", PARTICIPANT: "Bob Smith", GUEST: "Carol Jones"}
        for who in SENDERS:
            role = "host" if who == HOST else "participant"
            await room.join(
                JoinRequested(participant=who, name=names[who], role=role), sessions[who]
            )
        await room.submit(AdmitRequested(actor=HOST, participant=PARTICIPANT))
        for session in sessions.values():
            _read(session)
        return _Meeting(registry, room, sessions)

    async def run(self, data: bytes) -> None:
        meeting = await self._meeting()
        try:
            async with asyncio.timeout(INPUT_SECONDS):
                for element in frames(data):
                    if element:
                        await meeting.frame(SENDERS[element[0] % 3], element[1:])
                        for session in meeting.sessions.values():
                            _read(session)  # what the others were sent is valid too
                await meeting.still_answers()
        except TimeoutError:
            raise CrashError(f"the Room gave no answer within {INPUT_SECONDS} s") from None
        except BaseException:
            self.errors.records.clear()  # part of this crash, not of the next input
            raise
        finally:
            await meeting.registry.close()
        self.inputs += 1
        if self.inputs % FLUSH_EVERY == 0:
            await self.audit.flush()
        self.errors.check()

    async def close(self) -> None:
        await self.audit.close()
        await self.writes.close()
        await self.store.close()
        logging.getLogger("meetwarden").removeHandler(self.errors)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.errors.check()


async def _client_message() -> Harness[bytes]:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-client-message-"))
    store = await Store.open(f"sqlite+aiosqlite:///{folder / 'meetwarden.db'}")
    return _ClientMessage(folder, store)


def _sent_frames(seeds: Sequence[bytes]) -> list[str]:
    """The text of every frame of every seed."""
    texts = []
    for seed in seeds:
        for element in frames(seed):
            try:
                texts.append(element[1:].decode("utf-8"))
            except UnicodeDecodeError:
                continue
    return texts


def _framed(items: list[tuple[int, str]]) -> bytes:
    return joined(
        [bytes([sender]) + text.encode("utf-8", "surrogateescape") for sender, text in items]
    )


def _strategy(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    texts = _sent_frames(seeds)
    mutated = mutated_json(texts)
    text = st.one_of(mutated, mutated, mutated, st.sampled_from(texts), json_documents())
    sequence = st.lists(st.tuples(st.integers(0, 2), text), min_size=1, max_size=6).map(_framed)
    return st.one_of(st.sampled_from(list(seeds)), mutated_bytes(seeds), *[sequence] * 3)


def _frame(sender: str, message: dict[str, Any] | str | bytes) -> bytes:
    if isinstance(message, dict):
        message = json.dumps(message)
    raw = message.encode() if isinstance(message, str) else message
    return bytes([SENDERS.index(sender)]) + raw


_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def client_message_seeds() -> dict[str, bytes]:
    """A valid frame of every client message type (from whoever may send it), a few
    sequences that depend on each other, malformed frames, and a switch to each example
    policy."""
    p, w = PARTICIPANT, GUEST
    single: dict[str, tuple[str, dict[str, Any] | str | bytes]] = {
        "join": (p, {"type": "join", "id": 1, "name": "Bob Smith"}),
        "leave": (p, {"type": "leave", "id": 2}),
        "raise_hand": (p, {"type": "raise_hand", "id": 3}),
        "lower_hand": (HOST, {"type": "lower_hand", "id": 4, "participant": p}),
        "request_unmute": (p, {"type": "request_unmute", "id": 5}),
        "mute_self": (p, {"type": "mute_self", "id": 6}),
        "request_share": (p, {"type": "request_share", "id": 7, "kind": "screen"}),
        "chat": (p, {"type": "chat", "id": 8, "text": "hello", "to": HOST}),
        "rename": (p, {"type": "rename", "id": 9, "name": "Robert Smith"}),
        "file_token": (p, {"type": "file_token", "id": 10}),
        "admit": (HOST, {"type": "admit", "id": 11, "participant": w}),
        "deny": (HOST, {"type": "deny", "id": 12, "participant": w}),
        "admit_all": (HOST, {"type": "admit_all", "id": 13}),
        "remove": (HOST, {"type": "remove", "id": 14, "participant": p}),
        "ban": (HOST, {"type": "ban", "id": 15, "participant": p}),
        "lock": (HOST, {"type": "lock", "id": 16, "locked": True}),
        "mute": (HOST, {"type": "mute", "id": 17, "participant": p}),
        "mute_all": (HOST, {"type": "mute_all", "id": 18}),
        "ask_to_unmute": (HOST, {"type": "ask_to_unmute", "id": 19, "participant": p}),
        "grant": (
            HOST,
            {"type": "grant", "id": 20, "participant": p, "kind": "file", "minutes": 5},
        ),
        "revoke": (HOST, {"type": "revoke", "id": 21, "participant": p, "kind": "screen"}),
        "set_role": (HOST, {"type": "set_role", "id": 22, "participant": p, "role": "cohost"}),
        "update_policy": (
            HOST,
            {"type": "update_policy", "id": 23, "policy": {"chat": {"allowed": "host_only"}}},
        ),
        "end_meeting": (HOST, {"type": "end_meeting", "id": 24}),
        "publish": (
            p,
            {
                "type": "publish",
                "id": 25,
                "sdp": _SDP,
                "tracks": [{"mid": "0", "source": "screen", "surface": "window"}],
            },
        ),
        "subscribe": (p, {"type": "subscribe", "id": 26}),
        "stop_publish": (p, {"type": "stop_publish", "id": 27, "source": "camera"}),
        "subscribe_answer": (p, {"type": "subscribe_answer", "id": 28, "sdp": _SDP}),
        "tile_size": (
            p,
            {
                "type": "tile_size",
                "id": 41,
                "participant": HOST,
                "source": "camera",
                "width": 640,
                "height": 360,
            },
        ),
        "guest-chat": (w, {"type": "chat", "id": 29, "text": "let me in"}),
        "participant-admits": (p, {"type": "admit", "id": 30, "participant": w}),
        "invalid-policy-update": (
            HOST,
            {"type": "update_policy", "id": 31, "policy": {"entry": {"max_participants": 1}}},
        ),
        "not-json": (p, "{not json"),
        "not-an-object": (p, '["chat"]'),
        "duplicate-type": (p, '{"type": "chat", "type": "end_meeting", "text": "x", "id": 32}'),
        "deep-nesting": (p, '{"type": "chat", "id": 33, "text": ' + "[" * 20 + "]" * 20 + "}"),
        "unknown-type": (p, {"type": "fly", "id": 34}),
        "unknown-field": (p, {"type": "raise_hand", "id": 35, "as": HOST}),
        "wrong-types": (HOST, {"type": "lock", "id": "36", "locked": "yes"}),
        "boolean-id": (p, {"type": "raise_hand", "id": True}),
        "id-past-2-53": (p, {"type": "raise_hand", "id": 2**53 + 1}),
        "huge-number": (p, '{"type": "raise_hand", "id": 1' + "0" * 40 + "}"),
        "nan": (
            HOST,
            '{"type": "grant", "id": 37, "participant": "p", "kind": "screen", "minutes": NaN}',
        ),
        "lone-surrogate": (p, '{"type": "chat", "id": 38, "text": "\\ud800"}'),
        "chat-too-long": (p, {"type": "chat", "id": 39, "text": "x" * 4001}),
        "not-utf8": (p, b'{"type": "chat", "id": 40, "text": "caf\xe9"}'),
        "empty": (p, ""),
    }
    seeds = {name: joined([_frame(sender, message)]) for name, (sender, message) in single.items()}
    sequences: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "grant-then-share": [
            (HOST, {"type": "grant", "id": 1, "participant": p, "kind": "screen", "seconds": 5}),
            (p, {"type": "request_share", "id": 2, "kind": "screen"}),
            (HOST, {"type": "revoke", "id": 3, "participant": p, "kind": "screen"}),
        ],
        "hand-then-unmute": [
            (p, {"type": "raise_hand", "id": 1}),
            (HOST, {"type": "ask_to_unmute", "id": 2, "participant": p}),
            (p, {"type": "request_unmute", "id": 3}),
        ],
        "promote-then-act-as-cohost": [
            (HOST, {"type": "set_role", "id": 1, "participant": p, "role": "cohost"}),
            (p, {"type": "admit", "id": 2, "participant": w}),
            (w, {"type": "chat", "id": 3, "text": "thanks"}),
        ],
        "lock-then-admit": [
            (HOST, {"type": "lock", "id": 1, "locked": True}),
            (HOST, {"type": "admit_all", "id": 2}),
        ],
        "leave-then-speak": [
            (p, {"type": "leave", "id": 1}),
            (p, {"type": "chat", "id": 2, "text": "still here?"}),
            (HOST, {"type": "remove", "id": 3, "participant": p}),
        ],
        "end-then-request": [
            (HOST, {"type": "end_meeting", "id": 1}),
            (p, {"type": "raise_hand", "id": 2}),
        ],
    }
    for name, sent in sequences.items():
        seeds[name] = joined([_frame(sender, message) for sender, message in sent])
    for path in sorted(EXAMPLES.glob("*.json")):
        policy = json.loads(path.read_text())
        update = {"type": "update_policy", "id": 50, "policy": policy}
        seeds[f"update-to-{path.stem}"] = joined([_frame(HOST, update)])
    return seeds


CLIENT_MESSAGE = Target("client_message", False, _client_message, _strategy, slow=True)
