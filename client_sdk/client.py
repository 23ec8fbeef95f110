"""Joining a meeting as a bot: connect, await admission, act, receive typed events.

    client = await MeetingClient.connect(join_url, name="Note Taker", password="...")
    await client.wait_admitted()
    await client.raise_hand()
    event = await client.wait_for(GrantReceived)

Every request waits for the server's decision; a refusal raises
PolicyRefusedError with the reason code, the rule pointer and the sentence.

A MeetingClient is made of parts, one job each, over what they share
(``client_state.py``): joining and resuming (``joining.py``), receiving and
waiting for events (``receiving.py``), a participant's requests and files
(``requesting.py``), and a host's actions (``host_actions.py``). This module
puts them together and holds connecting, closing and the media session.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from meetwarden import protocol as wire

from .arguments import build
from .host_actions import HostActions
from .joining import Joining
from .links import parse_join_link
from .receiving import Receiving
from .requesting import Requesting

__all__ = ["MeetingClient", "parse_join_link"]


class MeetingClient(Joining, Receiving, Requesting, HostActions):
    """One participant's connection. Host actions are here too: the server decides by role."""

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

    # --- finding people, the media session, closing ----------------------------------

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
