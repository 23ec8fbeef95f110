"""Media signalling on the participant socket: publish, subscribe, answers, stop.

Each Room has its own media scope, and only people the Room admitted are
members of it: anyone in the waiting room (or away, or removed) who sends an
offer is refused by the media scope itself, before a peer connection exists
(security-bar test 38). The source of each track is what the server records
at this negotiation; the engine then decides, per newly published source,
whether its gate opens.
"""

from __future__ import annotations

from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.events import PublishRequested, PublishStopped

from ..i18n import say
from ..i18n.markers import N_
from ..media import MediaRoom
from ..media.errors import MediaError
from .interpreter import offer_message
from .room import Room
from .session import Session

__all__ = ["handle_media"]

_WAITING = N_("You are in the waiting room; media starts once the host lets you in.")
# What a person reads of a media error; the others (a malformed description, say) are for
# the client's developer and stay as the media plane wrote them, in English.
_SAID = {"not_admitted": _WAITING, "closed": N_("This meeting's media has ended.")}


async def handle_media(room: Room, session: Session, message: Any) -> None:
    me = session.participant_id
    media = room.media
    if not isinstance(media, MediaRoom):
        text = say(session.language, "This server runs without media.")
        session.send(wire.Error(ref=message.id, code="media_unavailable", message=text))
        return
    try:
        match message:
            case wire.Publish():
                await _publish(room, media, session, message)
            case wire.Subscribe():
                offer = await media.subscribe(me)
                session.send(offer_message(offer, ref=message.id))
            case wire.SubscribeAnswer(sdp=sdp):
                await media.subscriber_answer(me, sdp)
            case wire.TileSize(participant=publisher, source=source):
                media.set_tile_size(me, publisher, source, message.width, message.height)
            case wire.StopPublish(source=source):
                if not media.is_admitted(me):  # nothing of theirs is published here
                    raise MediaError("not_admitted", _WAITING)
                decided = await room.submit(PublishStopped(participant=me, source=source))
                session.send(
                    wire.Result(
                        ref=message.id,
                        allowed=decided.allowed,
                        reason=decided.reason,
                        rule=decided.rule,
                        message=decided.text(session.language),
                        params=decided.params,
                        decision_id=decided.decision_id,
                    )
                )
    except MediaError as error:
        said = _SAID.get(error.code)
        text = say(session.language, said) if said is not None else error.message
        session.send(wire.Error(ref=message.id, code=error.code, message=text))


async def _publish(room: Room, media: MediaRoom, session: Session, message: wire.Publish) -> None:
    me = session.participant_id
    sources = {track.mid: track.source for track in message.tracks}
    answer = await media.publish(me, message.sdp, sources)
    decisions: list[wire.TrackDecision] = []
    for track in message.tracks:
        person = room.state.get(me)
        if person is not None and track.source in person.published:
            continue  # decided at an earlier negotiation; its gate is as the engine left it
        decided = await room.submit(
            PublishRequested(participant=me, source=track.source, surface=track.surface)
        )
        decisions.append(
            wire.TrackDecision(
                source=track.source,
                allowed=decided.allowed,
                reason=decided.reason,
                rule=decided.rule,
                message=decided.text(session.language),
                params=decided.params,
                decision_id=decided.decision_id,
            )
        )
    session.send(wire.PublishAnswer(ref=message.id, sdp=answer, decisions=decisions))
