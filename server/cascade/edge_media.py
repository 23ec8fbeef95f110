"""One meeting's media at a node that serves its edge viewers (B): a media room fed by a pipe.

The room is this node's own scope for the meeting (``MediaPlane.room``, named
``edge-`` and the meeting's id: were this node to take the meeting over, its Room's
media scope would be another). Its only tracks are the pipe's (``open_pipe``:
A sends every published track of the meeting through it, ``feeds.py``); its only
participants are the edge viewers A admitted, who subscribe here exactly as a
local participant subscribes at A (``subscribe``, ``subscriber_answer``). A gate
closed at A stops the track at A: nothing of it reaches this room.

The pipe opens with the first viewer admitted and closes with the last one gone,
and B tells A (``pipe_close``) so that A stops sending.
"""

from __future__ import annotations

import asyncio
import logging

from meetwarden import protocol as wire

from ..i18n import reason_text
from ..media import MediaError, MediaPlane, MediaRoom
from ..media.events import ConnectionFailed, Observation, VideoPaused
from ..media.subscriber import SubscriberOffer
from ..runtime.interpreter import offer_message
from ..runtime.observations import media_failure_params
from ..runtime.session import Session
from .hub import Bus

__all__ = ["EdgeMeeting"]

log = logging.getLogger("meetwarden.cascade")


class EdgeMeeting:
    """The media room of one meeting at B, its pipe from A, and the viewers it serves."""

    def __init__(
        self,
        meeting_id: str,
        holder: str,
        *,
        plane: MediaPlane,
        bus: Bus,
        host: str,
        holder_host: str,
    ) -> None:
        self.meeting_id = meeting_id
        self.holder = holder
        self._bus = bus
        self._host = host
        self._holder_host = holder_host
        self.viewers: dict[str, Session] = {}
        """participant id -> the viewer's session at this node."""
        self.media: MediaRoom = plane.room(
            f"edge-{meeting_id}", on_observation=self._observed, on_subscriber_offer=self._offer
        )
        self.pipe_id: str | None = None
        self._opening: asyncio.Task[None] | None = None
        self._telling: set[asyncio.Task[bool]] = set()

    def admit(self, participant_id: str, session: Session) -> None:
        """A admitted this viewer: they may subscribe here. The first one opens the pipe."""
        self.viewers[participant_id] = session
        self.media.admit(participant_id)
        if self._opening is None:
            self._opening = asyncio.create_task(self._open_pipe(), name="edge pipe")

    def leave(self, participant_id: str) -> None:
        """The viewer is no longer admitted (sent back to the waiting room, gone)."""
        self.viewers.pop(participant_id, None)
        self.media.close_participant(participant_id)

    async def _open_pipe(self) -> None:
        if not self._holder_host:  # the holder's answer said where it sends from
            log.warning("cascade: no pipe address for %s: its tracks cannot come", self.holder)
        try:
            offer = await self.media.open_pipe(self._holder_host, host=self._host)
        except (MediaError, OSError) as error:
            log.warning("cascade: no pipe from %s: %s", self.holder, error)
            return
        self.pipe_id = offer.pipe_id
        body = {"op": "pipe_offer", "offer": offer.to_json()}
        if not await self._bus.to_node(self.holder, body, self.meeting_id):
            log.warning("cascade: %s did not hear the pipe offer", self.holder)

    async def close(self, tell_holder: bool = True) -> None:
        """Every viewer's media ends; A is told to stop sending (unless it is gone)."""
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        pipe_id, self.pipe_id = self.pipe_id, None
        self.viewers.clear()
        self.media.close_nowait()
        if pipe_id is not None and tell_holder:
            body = {"op": "pipe_close", "pipe": pipe_id}
            await self._bus.to_node(self.holder, body, self.meeting_id)

    # --- what the media room reports -----------------------------------------------

    def _offer(self, participant_id: str, offer: SubscriberOffer) -> None:
        """Tracks came or went (through the pipe): the viewer's subscriber is offered anew."""
        session = self.viewers.get(participant_id)
        if session is not None:
            session.send(offer_message(offer))

    def _observed(self, observation: Observation) -> None:
        """A viewer's connection failed: they hear why, as at A (server/runtime/entrances.py).
        A video paused for a viewer's slow link (or back) is told to A, whose Room words
        the notice (it knows the publisher's name and the viewer's language) and sends it
        to the viewer through B. Nothing else here is for the policy: this room publishes
        nothing of its own."""
        if isinstance(observation, VideoPaused):
            if observation.participant_id in self.viewers:
                body = {"op": "edge_video_paused", "participant": observation.participant_id,
                        "about": observation.about, "source": observation.source,
                        "paused": observation.paused}  # fmt: skip
                task = asyncio.create_task(self._bus.to_node(self.holder, body, self.meeting_id))
                self._telling.add(task)
                task.add_done_callback(self._telling.discard)
            return
        if isinstance(observation, ConnectionFailed):
            session = self.viewers.get(observation.participant_id)
            if session is not None:
                params = media_failure_params(observation)
                text = reason_text("media_failed", params, session.language)
                session.send(wire.Error(code="media_failed", message=text, params=params))

    def stats(self) -> dict[str, int] | None:
        """The pipe's counters (for the tests)."""
        return None if self.pipe_id is None else self.media.pipe_stats(self.pipe_id)
