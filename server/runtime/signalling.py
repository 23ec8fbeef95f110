"""Media signalling on the participant socket: publish, subscribe, answers, stop.

Only admitted participants get a peer connection: anyone in the waiting room
who sends an offer is refused before the media plane sees it (security-bar
test 38). The source of each track is what the server records at this
negotiation; the engine then decides, per newly published source, whether
its gate opens.
"""

from __future__ import annotations

from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.events import PublishRequested, PublishStopped

from ..media.errors import MediaError
from .media_bridge import MediaBridge, offer_message
from .meeting import MeetingRuntime
from .session import Session

__all__ = ["handle_media"]

_WAITING = "You are in the waiting room; media starts once the host lets you in."


async def handle_media(
    bridge: MediaBridge | None, runtime: MeetingRuntime, session: Session, message: Any
) -> None:
    me = session.participant_id
    if bridge is None:
        session.send(
            wire.Error(
                ref=message.id, code="media_unavailable", message="This server runs without media."
            )
        )
        return
    person = runtime.state.get(me)
    if person is None or not person.admitted:
        session.send(wire.Error(ref=message.id, code="not_admitted", message=_WAITING))
        return
    try:
        bridge.register(me, runtime)  # admits me to this meeting's media room
        room = bridge.room_for(runtime)
        match message:
            case wire.Publish():
                await _publish(bridge, runtime, session, message)
            case wire.Subscribe():
                offer = await room.subscribe(me)
                session.send(offer_message(offer, ref=message.id))
            case wire.SubscribeAnswer(sdp=sdp):
                await room.subscriber_answer(me, sdp)
            case wire.StopPublish(source=source):
                decision = await runtime.submit(PublishStopped(participant=me, source=source))
                session.send(
                    wire.Result(
                        ref=message.id,
                        allowed=decision.allowed,
                        reason=decision.reason.value,
                        rule=decision.rule,
                        message=decision.message,
                    )
                )
    except MediaError as error:
        session.send(wire.Error(ref=message.id, code=error.code, message=error.message))


async def _publish(
    bridge: MediaBridge, runtime: MeetingRuntime, session: Session, message: wire.Publish
) -> None:
    me = session.participant_id
    sources = {track.mid: track.source for track in message.tracks}
    answer = await bridge.room_for(runtime).publish(me, message.sdp, sources)
    decisions: list[wire.TrackDecision] = []
    for track in message.tracks:
        person = runtime.state.get(me)
        if person is None or not person.admitted or track.source in person.published:
            continue
        decision = await runtime.submit(
            PublishRequested(participant=me, source=track.source, surface=track.surface)
        )
        decisions.append(
            wire.TrackDecision(
                source=track.source,
                allowed=decision.allowed,
                reason=decision.reason.value,
                rule=decision.rule,
                message=decision.message,
            )
        )
    session.send(wire.PublishAnswer(ref=message.id, sdp=answer, decisions=decisions))
