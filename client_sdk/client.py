"""Joining a meeting as a bot: connect, await admission, act, receive typed events.

    client = await MeetingClient.connect(join_url, name="Note Taker", password="...")
    await client.wait_admitted()
    await client.raise_hand()
    event = await client.wait_for(GrantReceived)

Every request waits for the server's decision; a refusal raises
PolicyRefusedError with the reason code, the rule pointer and the sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from meetwarden import protocol as wire

from . import events as ev
from . import files
from .arguments import build
from .errors import (
    ConnectionClosedError,
    DismissedError,
    InvalidArgumentError,
    JoinRefusedError,
    MeetwardenError,
    MeetwardenTimeoutError,
    PolicyRefusedError,
    ProtocolError,
    ServerUnreachableError,
)
from .ice import IceOptions
from .reading import read_server_message

__all__ = ["MeetingClient", "parse_join_link"]

log = logging.getLogger("meetwarden.client")
E = TypeVar("E", bound=ev.Event)
R = TypeVar("R")
BUFFER_LIMIT = 10_000
RESUMABLE_CLOSE_CODES = frozenset({1001, 1006, 1012})
"""Close codes after which the SDK resumes the bot's place by itself: the server going
away or restarting (1001, 1012, RFC 6455 section 7.4.1 and the IANA registry) and a
connection that dropped without a close frame (1006). A restart keeps everyone's place
(server/runtime/places.py), so the resume token still opens it."""
RESUME_BACKOFF = (0.25, 5.0)
"""First and longest pause between resume attempts while the server is down."""


def parse_join_link(link: str, server: str | None = None) -> tuple[str, str, str | None]:
    """(server base URL, meeting id, invite token from the link's fragment, if any)."""
    parts = urlsplit(link)
    if parts.scheme in ("http", "https") and "/m/" in parts.path:
        base = f"{parts.scheme}://{parts.netloc}"
        meeting_id = parts.path.rsplit("/m/", 1)[1].strip("/")
        invite = None
        if parts.fragment.startswith("invite="):
            invite = unquote(parts.fragment.removeprefix("invite="))
        return base, meeting_id, invite
    if parts.scheme in ("http", "https"):
        raise InvalidArgumentError(
            "link", link, "a join link's path is /m/MEETING_ID, as the host got it"
        )
    if server is None:
        raise InvalidArgumentError(
            "link",
            link,
            "give a join link (http://host/m/MEETING_ID), or a meeting id with server=",
        )
    if urlsplit(server).scheme not in ("http", "https") or not urlsplit(server).netloc:
        raise InvalidArgumentError("server", server, "give the server's base URL, http(s)://host")
    if not link or "/" in link:
        raise InvalidArgumentError("link", link, "a meeting id is one path segment")
    return server.rstrip("/"), link, None


class MeetingClient:
    """One participant's connection. Host actions are here too: the server decides by role."""

    def __init__(self, server: str, meeting_id: str, *, resume_automatically: bool = True) -> None:
        self.server = server
        self.meeting_id = meeting_id
        self.participant_id: str | None = None
        self.role: str | None = None
        self.device_token: str | None = None
        self.resume_token: str | None = None
        self.status = "connecting"
        self.you: wire.SelfState | None = None
        self.meeting: wire.MeetingInfo | None = None
        self.roster: list[wire.RosterEntry] = []
        self.waiting: list[wire.WaitingEntry] = []
        self.policy: dict[str, Any] | None = None
        self.dismissal: wire.Dismissed | None = None
        self.ice_servers: list[wire.IceServer] = []
        """The TURN servers the server gave this participant at its last admission."""
        self.ice = IceOptions()
        """Which of them the media connections opened from now on use (client_sdk/ice.py)."""
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._media: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._buffer: list[ev.Event] = []
        self._changed = asyncio.Condition()
        self._closed = asyncio.Event()
        self._closing = False
        self.close_code: int | None = None
        self.close_reason = ""
        self.resume_automatically = resume_automatically
        """Resume by itself after a server restart or a dropped connection (see
        RESUMABLE_CLOSE_CODES) for up to ``resume_within`` seconds."""
        self.resume_within = 120.0
        self._join_message: wire.Join | None = None
        self.language: str | None = None
        """The language the server writes this client's sentences in (``connect``)."""
        self._resuming: asyncio.Task[None] | None = None

    # --- connecting ---------------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        link: str,
        *,
        name: str,
        password: str | None = None,
        invite: str | None = None,
        host_token: str | None = None,
        device_token: str | None = None,
        resume_token: str | None = None,
        server: str | None = None,
        timeout: float = 15.0,
        resume_automatically: bool = True,
        language: str | None = None,
    ) -> MeetingClient:
        """Joins a meeting; returns once the server said waiting or admitted.

        ``language`` (a BCP 47 tag such as ``"zh-CN"``) is the language of every
        sentence the server sends this client (``message``, a notice's ``text``, an
        error's ``str()``); English when not given, or when the server has no catalog
        for it. ``reason`` and ``params`` are the same in every language.

        Raises JoinRefusedError when the join is refused (wrong password, locked,
        a name the policy refuses, banned...), ServerUnreachableError when there
        is no server at that address, MeetwardenTimeoutError when it does not
        answer in ``timeout`` seconds, InvalidArgumentError for a bad link.
        """
        base, meeting_id, link_invite = parse_join_link(link, server)
        client = cls(base, meeting_id, resume_automatically=resume_automatically)
        client.language = language
        await client._join(
            build(
                wire.Join,
                name=name,
                password=password,
                invite=invite or link_invite,
                host_token=host_token,
                device_token=device_token,
                resume_token=resume_token,
                language=language,
            ),
            timeout,
        )
        return client

    async def _open(self, timeout: float) -> ClientConnection:
        url = self.server.replace("http", "ws", 1) + f"/ws/meetings/{self.meeting_id}"
        try:
            return await websockets.connect(
                url, open_timeout=timeout, max_size=wire.MAX_MESSAGE_BYTES * 4
            )
        except TimeoutError:
            raise MeetwardenTimeoutError(
                f"the server at {self.server} to answer", timeout
            ) from None
        except websockets.InvalidURI as error:
            raise InvalidArgumentError("link", self.server, str(error)) from None
        except (OSError, websockets.InvalidHandshake) as error:
            raise ServerUnreachableError(self.server, error) from error

    async def _join(self, join: wire.Join, timeout: float) -> None:
        if join.resume_token is None:
            self._join_message = join
        self._socket = await self._open(timeout)
        try:
            await self._socket.send(wire.encode(join))
            async with asyncio.timeout(timeout):
                await self._answer_to_join(self._socket)
        except TimeoutError:
            await self._socket.close()
            raise MeetwardenTimeoutError("the server's answer to the join", timeout) from None
        except websockets.ConnectionClosed as closed:
            self.close_code = self._socket.close_code
            self.close_reason = closed.rcvd.reason if closed.rcvd is not None else ""
            raise ConnectionClosedError(self.close_code, self.close_reason) from None
        self._reader = asyncio.create_task(self._read())

    async def _answer_to_join(self, socket: ClientConnection) -> None:
        while True:
            message = read_server_message(await socket.recv())
            if message is None:
                continue
            if isinstance(message, wire.JoinRefused):
                await socket.close()
                raise JoinRefusedError(
                    message.reason,
                    message.rule,
                    message.message,
                    message.retry_after,
                    decision_id=message.decision_id,
                    params=message.params,
                )
            if isinstance(message, wire.Error):
                await socket.close()
                raise ProtocolError(message.code, message.message, message.params)
            self._take(message)
            if self.status in ("waiting", "admitted"):
                return

    async def reconnect(self, timeout: float = 15.0) -> None:
        """Comes back after a dropped connection to the place the meeting kept for you.

        Within the policy's ``entry.reconnect_seconds`` the resume token (single use;
        the server sends a new one each time) gives back your place as the meeting has
        it now: admitted or waiting, your role, muted or not, your grants. Media starts
        again: publish and subscribe anew. Later, or after leaving, the join goes through
        the policy like anyone's (the waiting room, say). If the SDK is already resuming
        by itself (after a server restart), this waits for that instead.
        """
        if self._resuming is not None and not self._resuming.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._resuming)
            if self.status in ("waiting", "admitted"):
                return
        await self.close()
        await self._resume(timeout)

    async def _resume(self, timeout: float) -> None:
        self._closed.clear()
        self._closing = False
        self.status = "connecting"
        first = self._join_message  # a renamed bot resumes under its new name
        name = self.you.name if self.you else (first.name if first is not None else "")
        await self._join(
            build(
                wire.Join,
                name=name,
                device_token=self.device_token,
                resume_token=self.resume_token,
                language=self.language,
            ),
            timeout,
        )

    async def _resume_after_drop(self) -> None:
        """Resumes the bot's place after a server restart or a dropped connection,
        trying again while the server is down, for up to ``resume_within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.resume_within
        pause, longest = RESUME_BACKOFF
        while True:
            try:
                await self._resume(timeout=min(15.0, max(1.0, deadline - loop.time())))
            except (ServerUnreachableError, ConnectionClosedError, MeetwardenTimeoutError) as error:
                if loop.time() + pause >= deadline:
                    log.warning(
                        "could not resume the meeting within %g s: %s", self.resume_within, error
                    )
                    break
                await asyncio.sleep(pause)  # the server is restarting: try again shortly
                pause = min(pause * 2, longest)
                continue
            except MeetwardenError as error:
                log.warning("could not resume the meeting: %s", error)
                break
            log.info("resumed the meeting after the connection dropped")
            return
        self.status = "closed"
        self._closed.set()
        async with self._changed:
            self._changed.notify_all()

    # --- receiving ------------------------------------------------------------------

    def _take(self, message: Any) -> None:
        """Updates what the client knows, and queues the typed events."""
        previous = self.you
        match message:
            case wire.Welcome():
                self.participant_id, self.role = message.participant_id, message.role
                self.device_token = message.device_token
                if message.resume_token is not None:  # single use: each welcome brings one
                    self.resume_token = message.resume_token
            case wire.Waiting():
                self.status = "waiting"
            case wire.Admitted():
                self.status = "admitted"
                self.meeting, self.you, self.roster = message.meeting, message.you, message.roster
                self.resume_token = message.resume_token
                self.role = message.you.role
                self.ice_servers = message.ice_servers
            case wire.Dismissed():
                self.status, self.dismissal = "dismissed", message
            case wire.BackToWaitingRoom():
                self.status = "waiting"
                self.roster = []
            case wire.Roster():
                self.roster = message.participants
            case wire.WaitingList():
                self.waiting = message.waiting
            case wire.You():
                self.you, self.role = message.you, message.you.role
            case wire.Meeting():
                self.meeting = message.meeting
            case wire.PolicyMessage():
                self.policy = message.policy
        for event in ev.event_for(message, previous):
            self._buffer.append(event)
        del self._buffer[:-BUFFER_LIMIT]

    async def _read(self) -> None:
        assert self._socket is not None
        try:
            async for text in self._socket:
                message = read_server_message(text)
                if message is None:
                    continue
                ref = getattr(message, "ref", None)
                if ref is not None and ref in self._pending:
                    future = self._pending.pop(ref)
                    if future.done():
                        continue
                    if isinstance(message, wire.Error):
                        future.set_exception(
                            ProtocolError(message.code, message.message, message.params)
                        )
                    else:
                        future.set_result(message)
                    continue
                if isinstance(message, wire.SubscribeOffer) and self._media is not None:
                    self._spawn(self._answer_offer(message))
                    continue
                self._take(message)
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self._socket.close_code
            self.close_reason = self._socket.close_reason or ""
            resume = (
                self.resume_automatically
                and not self._closing
                and self.status != "dismissed"
                and self.resume_token is not None
                and self.close_code in RESUMABLE_CLOSE_CODES
            )
            if self.status != "dismissed":
                self.status = "reconnecting" if resume else "closed"
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(self._gone())
            self._pending.clear()
            if resume:
                await self._drop_media()
                self._resuming = asyncio.create_task(self._resume_after_drop())
            else:
                self._closed.set()
            async with self._changed:
                self._changed.notify_all()

    def _gone(self) -> MeetwardenError:
        if self.dismissal is not None:
            d = self.dismissal
            return DismissedError(d.why, d.reason, d.rule, d.message, d.params)
        return ConnectionClosedError(self.close_code, self.close_reason)

    async def wait_for(
        self,
        kind: type[E] | tuple[type[E], ...],
        predicate: Callable[[E], bool] | None = None,
        timeout: float = 15.0,
    ) -> E:
        """The first received event of this kind not taken yet (waiting for it if needed).

        Raises MeetwardenTimeoutError (a TimeoutError) after ``timeout`` seconds, and
        DismissedError or ConnectionClosedError once the connection closed without one.
        """
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    for index, event in enumerate(self._buffer):
                        if isinstance(event, kind) and (predicate is None or predicate(event)):
                            del self._buffer[index]
                            return event
                    if self._closed.is_set():
                        raise self._gone()
                    await self._changed.wait()
        except TimeoutError:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            what = " or ".join(k.__name__ for k in kinds)
            raise MeetwardenTimeoutError(f"a {what} event", timeout) from None

    async def events(self) -> AsyncIterator[ev.Event]:
        """Every event in the order received, until the connection closes."""
        while True:
            try:
                yield await self.wait_for(ev.Event, timeout=365 * 24 * 3600)
            except (DismissedError, ConnectionError):
                return

    async def wait_admitted(self, timeout: float = 30.0) -> wire.Admitted:
        """Returns once a host admits you; raises DismissedError if you are denied instead."""
        event = await self.wait_for(
            (ev.Admitted, ev.Denied, ev.Removed, ev.MeetingEnded), timeout=timeout
        )
        if isinstance(event, ev.Admitted):
            return event.message  # type: ignore[no-any-return]
        d = event.message
        raise DismissedError(d.why, d.reason, d.rule, d.message, d.params)

    async def wait_closed(self, timeout: float = 15.0) -> None:
        """Returns once the connection is closed (by you, the server, or a dismissal)."""
        try:
            async with asyncio.timeout(timeout):
                await self._closed.wait()
        except TimeoutError:
            raise MeetwardenTimeoutError("the connection to close", timeout) from None

    # --- requests -------------------------------------------------------------------

    async def send(self, message: wire.Request) -> None:
        """Sends a message without waiting for a reply."""
        if self._socket is None or self._closed.is_set():
            raise self._gone()
        try:
            await self._socket.send(wire.encode(message))
        except websockets.ConnectionClosed:
            raise self._gone() from None

    async def exchange(self, message: wire.Request, reply: type[R], timeout: float = 30.0) -> R:
        """Sends a request and returns the reply of that type carrying its ``ref``.

        An ``error`` reply raises ProtocolError.
        """
        if self._socket is None or self._closed.is_set():
            raise self._gone()
        ref = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            await self._socket.send(wire.encode(message.model_copy(update={"id": ref})))
            async with asyncio.timeout(timeout):
                answer = await future
        except websockets.ConnectionClosed:
            raise self._gone() from None
        except TimeoutError:
            self._pending.pop(ref, None)
            raise MeetwardenTimeoutError(
                f"the server's answer to {type(message).__name__}", timeout
            ) from None
        if not isinstance(answer, reply):
            raise ProtocolError("unexpected_reply", f"expected {reply.__name__}, got {answer.type}")
        return answer

    async def request(self, message: wire.Request, timeout: float = 15.0) -> wire.Result:
        """Sends a request and waits for the decision; a refusal raises PolicyRefusedError."""
        result = await self.exchange(message, wire.Result, timeout)
        if not result.allowed:
            raise PolicyRefusedError(
                result.reason,
                result.rule,
                result.message,
                result.errors,
                decision_id=result.decision_id,
                params=result.params,
            )
        return result

    async def raise_hand(self) -> wire.Result:
        """Raises your hand; hosts see a HandRaised event (``message.about`` is you)."""
        return await self.request(build(wire.RaiseHand))

    async def lower_hand(self, participant: str | None = None) -> wire.Result:
        """Lowers your own hand or, as a host, ``participant``'s."""
        return await self.request(build(wire.LowerHand, participant=participant))

    async def request_unmute(self) -> wire.Result:
        """Unmutes if the policy allows it now; else PolicyRefusedError says what to do."""
        return await self.request(build(wire.RequestUnmute))

    async def mute_self(self) -> wire.Result:
        """Mutes yourself (always allowed); unmuting again goes through ``request_unmute``."""
        return await self.request(build(wire.MuteSelf))

    async def request_share(self, kind: wire.ShareKind = "screen") -> wire.Result:
        """Asks to share a screen or a file; where a grant is needed, hosts are asked (reason
        ``share_request_sent``) and a GrantReceived event follows if one grants it."""
        return await self.request(build(wire.RequestShare, kind=kind))

    async def confirm_share(self) -> wire.Result:
        """Confirms the screen you published (``media.publish(screen=...)``): the server
        forwards nothing of it before (its decision was ``share_awaiting_confirmation``).
        A person confirms after looking at a preview; a bot, once it knows what its track
        shows. ``media.share_screen`` publishes and confirms in one call."""
        return await self.request(build(wire.ConfirmShare))

    async def stop_share(self) -> wire.Result:
        """Stops sharing your screen, or gives up a share not yet confirmed; where the
        policy's ``screen_share.grant_ends_with_share`` says so, the grant ends with it."""
        return await self.request(build(wire.StopShare))

    async def chat(self, text: str, to: str | None = None) -> wire.Result:
        """Sends a chat message to everyone admitted, or privately ``to`` one participant id
        (whom the policy's ``chat.private`` lets you write to; else PolicyRefusedError)."""
        return await self.request(build(wire.Chat, text=text, to=to))

    async def rename(self, name: str) -> wire.Result:
        """Changes your display name; the policy's name rules apply as at the join."""
        return await self.request(build(wire.Rename, name=name))

    async def leave(self) -> None:
        """Leaves the meeting and closes the connection."""
        with contextlib.suppress(Exception):
            await self.request(wire.Leave(), timeout=5)
        await self.close()

    # --- host actions (refused with not_a_host unless you are a host or co-host) ---

    async def admit(self, participant: str) -> wire.Result:
        """Lets a waiting participant in (hosts and co-hosts; else ``not_a_host``)."""
        return await self.request(build(wire.Admit, participant=participant))

    async def deny(self, participant: str) -> wire.Result:
        """Turns a waiting participant away; they get a Denied event and are disconnected."""
        return await self.request(build(wire.Deny, participant=participant))

    async def admit_all(self) -> wire.Result:
        """Lets everyone who is waiting in, in one request."""
        return await self.request(build(wire.AdmitAll))

    async def remove(self, participant: str) -> wire.Result:
        """Removes someone from the meeting; whether they may rejoin is the policy's
        ``removal.rejoin`` (``never`` by default: a ban on their device and name)."""
        return await self.request(build(wire.Remove, participant=participant))

    async def ban(self, participant: str) -> wire.Result:
        """Removes someone and bans them from rejoining, whatever ``removal.rejoin`` says."""
        return await self.request(build(wire.Ban, participant=participant))

    async def lock(self, locked: bool = True) -> wire.Result:
        """Locks the meeting (nobody new joins, nobody waiting is admitted) or unlocks it."""
        return await self.request(build(wire.Lock, locked=locked))

    async def mute(self, participant: str) -> wire.Result:
        """Mutes a participant and takes back any permission to unmute."""
        return await self.request(build(wire.Mute, participant=participant))

    async def mute_all(self) -> wire.Result:
        """Mutes everyone except hosts and co-hosts."""
        return await self.request(build(wire.MuteAll))

    async def ask_to_unmute(self, participant: str) -> wire.Result:
        """Lets a participant unmute and asks them to; nobody can be unmuted by force."""
        return await self.request(build(wire.AskToUnmute, participant=participant))

    async def grant(
        self,
        participant: str,
        kind: wire.ShareKind = "screen",
        minutes: int | None = None,
        seconds: int | None = None,
    ) -> wire.Result:
        """Lets a participant share until the grant expires (the policy's minutes by default)."""
        grant = build(
            wire.Grant, participant=participant, kind=kind, minutes=minutes, seconds=seconds
        )
        return await self.request(grant)

    async def revoke(self, participant: str, kind: wire.ShareKind = "screen") -> wire.Result:
        """Takes back a participant's grant to share (``no_grant`` if they had none)."""
        return await self.request(build(wire.Revoke, participant=participant, kind=kind))

    async def set_role(self, participant: str, role: str) -> wire.Result:
        """Makes a participant a ``cohost`` or a ``participant`` again (the host only)."""
        return await self.request(build(wire.SetRole, participant=participant, role=role))

    async def update_policy(self, policy: dict[str, Any]) -> wire.Result:
        """Replaces the policy; a bad one raises PolicyRefusedError with ``errors``."""
        return await self.request(build(wire.UpdatePolicy, policy=policy))

    async def end_meeting(self) -> wire.Result:
        """Ends the meeting for everyone (the host only); each gets a MeetingEnded event."""
        return await self.request(build(wire.EndMeeting))

    # --- files (client_sdk/files.py) ---------------------------------------------------

    async def file_token(self) -> wire.FileToken:
        """A short-lived token for the file endpoints, bound to this connection."""
        return await self.exchange(wire.RequestFileToken(), wire.FileToken)

    async def share_file(
        self,
        source: files.FileSource,
        name: str | None = None,
        content_type: str | None = None,
        *,
        timeout: float = 120.0,
    ) -> files.SharedFile:
        """Shares a file (a path, bytes, or async chunks) if the policy lets it through.

        Returns the decision and what others see; a refusal raises PolicyRefusedError
        (``file_type_mismatch``, ``share_needs_grant``...) or ApiError.
        """
        token = await self.file_token()
        return await files.upload(
            self.server,
            token,
            source,
            name=name,
            content_type=content_type,
            timeout=timeout,
            language=self.language,
        )

    async def download_file(
        self, file_id: str, path: str | None = None, *, timeout: float = 120.0
    ) -> files.DownloadedFile:
        """Downloads a shared file into memory (``.content``) or, streamed, to ``path``."""
        token = await self.file_token()
        return await files.download(
            self.server, token, file_id, path=path, timeout=timeout, language=self.language
        )

    # --- helpers ----------------------------------------------------------------------

    def find(self, name: str) -> str | None:
        """The id of someone in the roster or the waiting list, by display name."""
        for entry in self.roster:
            if entry.name == name:
                return entry.id
        for waiting in self.waiting:
            if waiting.name == name:
                return waiting.id
        return None

    @property
    def media(self) -> Any:
        """This participant's media (a MediaSession): publish sources, receive tracks."""
        if self._media is None:
            from .media import MediaSession  # aiortc loads only for bots that use media

            self._media = MediaSession(self)
        return self._media

    async def _answer_offer(self, offer: wire.SubscribeOffer) -> None:
        try:
            await self._media.apply_offer(offer)
        except Exception as error:  # the connection may close while answering
            if not (self._closing or self._closed.is_set()):
                log.warning("could not answer a subscriber offer: %r", error)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drop_media(self) -> None:
        """Media ends with the connection: the next ``media`` is a new session."""
        media, self._media = self._media, None
        if media is not None:
            await media.close()

    async def close(self) -> None:
        """Closes the connection; within the policy's reconnect_seconds ``reconnect`` resumes
        the place the meeting kept."""
        self._closing = True
        resuming, self._resuming = self._resuming, None
        if resuming is not None and not resuming.done():
            resuming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await resuming
        await self._drop_media()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        self._closed.set()

    async def __aenter__(self) -> MeetingClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
