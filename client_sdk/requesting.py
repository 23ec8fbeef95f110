"""Requests: a message and its reply, the decision on it, and a participant's own actions.

``exchange`` matches a reply to its request by ``ref``; ``request`` waits for
the server's decision and raises PolicyRefusedError on a refusal, so every
action below returns only once the policy allowed it. Files go over HTTP
(``files.py``) with a token asked for on the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

import websockets

from meetwarden import protocol as wire

from . import files
from .arguments import build
from .client_state import ClientState
from .errors import MeetwardenTimeoutError, PolicyRefusedError, ProtocolError

__all__ = ["Requesting"]

R = TypeVar("R")


class Requesting(ClientState):
    """What a participant asks of the meeting; each request waits for its decision."""

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
