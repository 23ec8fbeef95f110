"""The ways into a Room: requests, joins, resumes, lost connections, media, timers.

Each enters the Room's inbox (``inbox.py``) and is decided in turn
(``Room.decide_now``): a request or a join waits for its decision; what the
media scope observes and what a timer fires are posted without waiting. A
failed media connection and a new subscriber offer only tell the person
concerned: there is nothing for the engine to decide.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.effects import StartTimer
from meetwarden.policies.events import Disconnected, Event, JoinRequested, Resumed
from meetwarden.policies.state import MeetingState
from meetwarden.policies.timers import timer_event

from ..i18n import notice_text, reason_text
from ..media.events import ConnectionFailed, Observation, SpeakersChanged, VideoPaused
from ..media.subscriber import SubscriberOffer
from .decided import Decided, wire_params
from .inbox import RoomInbox
from .interpreter import offer_message
from .observations import Observations, media_failure_params
from .session import Session
from .telling import broadcast

__all__ = ["RoomEntrances"]

log = logging.getLogger("meetwarden.room")


class RoomEntrances(RoomInbox):
    """What enters the Room's inbox, from sockets, the REST API, media and timers."""

    state: MeetingState
    sessions: dict[str, Session]
    resume_tokens: dict[str, tuple[str, str]]
    observations: Observations
    speakers: tuple[str, ...] = ()
    """Who the media scope last said is speaking (told to each person admitted later)."""

    @abstractmethod
    def decide_now(
        self,
        event: Event,
        context: dict[str, Any] | None,
        actor: str | None,
        reply: Callable[[Decided], None] | None,
        attach: Session | None = None,
    ) -> Decided:
        """Decide, apply, tell, record, in the Room's own turn (room.py)."""

    async def submit(
        self,
        event: Event,
        *,
        context: dict[str, Any] | None = None,
        actor: str | None = None,
        reply: Callable[[Decided], None] | None = None,
    ) -> Decided:
        """Decides one event and applies every effect before the next one is taken.

        ``reply`` hears the decision before its effects go out, so whoever asked
        learns the answer before its consequences (even when they end the asker's
        connection).
        """
        return await self._inside(lambda: self.decide_now(event, context, actor, reply))

    async def join(self, event: JoinRequested, session: Session) -> Decided:
        """Decides a join; the session becomes the person's connection if it is allowed."""
        return await self._inside(lambda: self.decide_now(event, None, None, None, session))

    async def resume(self, participant_id: str, token_id: str, session: Session) -> Decided | None:
        """Resumes the person a current resume token names, on ``session``; None when the
        token is not (or no longer) the person's current one. The token is used up."""

        def resume_now() -> Decided | None:
            current = self.resume_tokens.get(participant_id)
            if current is None or current[1] != token_id:
                return None
            if self.state.get(participant_id) is None:
                return None
            del self.resume_tokens[participant_id]  # single use: a new one comes with welcome
            old = self.sessions.get(participant_id)
            if old is not None and old is not session:
                old.close(wire.CLOSE_REPLACED, "resumed on another connection")
            event = Resumed(participant=participant_id)
            return self.decide_now(event, None, None, None, session)

        return await self._inside(resume_now)

    async def connection_lost(self, participant_id: str, session: Session) -> None:
        """The socket of ``session`` ended without a goodbye: the person may resume."""

        def lost() -> None:
            if self.sessions.get(participant_id) is not session:
                return  # replaced by a newer connection, or already gone
            del self.sessions[participant_id]
            person = self.state.get(participant_id)
            if person is not None and person.connected:
                self.decide_now(Disconnected(participant=participant_id), None, None, None)

        await self._inside(lost)

    def observe(self, observation: Observation) -> None:
        """From this Room's media scope: decided in turn, if it changes anything."""
        if isinstance(observation, SpeakersChanged):
            self._relay_speakers(observation)
            return
        if isinstance(observation, ConnectionFailed):
            self._media_failed(observation)
            return
        if isinstance(observation, VideoPaused):
            self._tell_video_paused(observation)
            return
        if not self.observations.worth_deciding(observation, self.state):
            return

        def observed() -> None:
            event = self.observations.event_for(observation, self.state)
            if event is not None:
                self.decide_now(event, None, "media", None)

        self.post(observed)

    def _relay_speakers(self, changed: SpeakersChanged) -> None:
        """Who speaks, to everyone admitted: nothing to decide (the media scope counted
        only microphones whose gate the policy opened, and reports only changes, at
        most once per window). Someone no longer admitted is left out all the same."""
        self.speakers = changed.speakers
        readers = [session for pid, session in self.sessions.items() if self._admitted(pid)]
        broadcast(readers, self.speaking_message())

    def speaking_message(self) -> wire.Speaking:
        """Who is speaking, as the wire says it: only people admitted now."""
        return wire.Speaking(participants=[p for p in self.speakers if self._admitted(p)])

    def _tell_video_paused(self, changed: VideoPaused) -> None:
        """A subscriber hears why a video stopped (its link is too slow for it) and when it
        is back: nothing to decide, the media scope paused it for that subscriber alone."""
        session = self.sessions.get(changed.participant_id)
        about = self.state.get(changed.about)
        if session is None or about is None:
            return
        topic = "video_paused" if changed.paused else "video_resumed"
        params = {"name": about.name, "source": changed.source}
        text = notice_text(topic, "participant", None, params, session.language)
        session.send(
            wire.Notice(topic=topic, text=text, params=wire_params(params), about=changed.about)
        )

    def _admitted(self, participant_id: str) -> bool:
        person = self.state.get(participant_id)
        return person is not None and person.admitted

    def _media_failed(self, failed: ConnectionFailed) -> None:
        """A connection of this person failed and was released: they hear why (no decision:
        the tracks it carried end with their own observations)."""
        log.info(
            "meeting %s: the %s connection of %s failed (%s)",
            self.meeting_id[:8],
            failed.direction,
            failed.participant_id,
            failed.reason,
        )
        session = self.sessions.get(failed.participant_id)
        if session is not None:
            params = media_failure_params(failed)
            message = reason_text("media_failed", params, session.language)
            session.send(wire.Error(code="media_failed", message=message, params=params))

    def offer(self, participant_id: str, offer: SubscriberOffer) -> None:
        """From this Room's media scope: a new subscriber offer (tracks came or went)."""
        session = self.sessions.get(participant_id)
        if session is not None:
            session.send(offer_message(offer))

    def _timer_fired(self, plan: StartTimer) -> None:
        self.post(lambda: self.decide_now(timer_event(plan), None, "timer", None))
