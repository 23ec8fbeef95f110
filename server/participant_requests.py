"""What a participant's request does once they joined: the one place a socket's requests
(and an edge viewer's, relayed from another node: server/cascade/) reach the Room."""

from __future__ import annotations

from typing import Any

from meetwarden import protocol as wire
from meetwarden.policies.capabilities import Capabilities, unsupported
from meetwarden.policies.errors import PolicyError, listed
from meetwarden.policies.events import PolicyUpdateRequested
from meetwarden.policies.loading import validate_policy

from .files.access import FileAccess
from .i18n import issue_json, issues_listed, reason_text, say
from .runtime.decided import Decided
from .runtime.requests import event_for
from .runtime.room import Room
from .runtime.session import Session
from .runtime.signalling import handle_media

__all__ = ["handle_request"]


async def handle_request(
    room: Room, session: Session, message: Any, files: FileAccess, capabilities: Capabilities
) -> bool:
    """Acts on one request; False when the socket should end (the participant left)."""
    me = session.participant_id
    if isinstance(message, wire.RequestFileToken):  # file sharing: server/files/
        session.send(files.token_for(room, session, message.id))
        return True
    language = session.language
    if isinstance(message, wire.Join):
        text = say(language, "You already joined.")
        session.send(wire.Error(ref=message.id, code="already_joined", message=text))
        return True
    media_messages = wire.Publish | wire.Subscribe | wire.StopPublish | wire.SubscribeAnswer
    if isinstance(message, media_messages | wire.TileSize):
        await handle_media(room, session, message)
        return True
    if isinstance(message, wire.UpdatePolicy):
        try:
            policy = validate_policy(message.policy)
        except PolicyError as error:
            params: wire.Params = {"count": len(error.issues)}
            session.send(
                wire.Result(
                    ref=message.id,
                    allowed=False,
                    reason="policy_invalid",
                    rule=error.issues[0].pointer,
                    message=reason_text("policy_invalid", params, language),
                    params=params,
                    errors=[issue_json(issue, language) for issue in error.issues],
                )
            )
            return True
        problems = unsupported(policy, capabilities)
        if problems:
            # Each problem's own sentence (how to fix it) is in ``errors``; the message
            # lists them in the reader's language, ``params`` in English as ever.
            params = {"problems": listed(problems)}
            written = {"problems": issues_listed(problems, language)}
            session.send(
                wire.Result(
                    ref=message.id,
                    allowed=False,
                    reason="policy_unsupported",
                    rule=problems[0].pointer,
                    message=reason_text("policy_unsupported", written, language),
                    params=params,
                    errors=[issue_json(problem, language) for problem in problems],
                )
            )
            return True
        event: Any = PolicyUpdateRequested(actor=me, policy=policy)
        context: dict[str, Any] = {"policy_document": message.policy, "by": me}
    else:
        mapped = event_for(message, me)
        if mapped is None:
            text = say(language, "Not supported here.")
            session.send(wire.Error(ref=message.id, code="unsupported", message=text))
            return True
        event, context = mapped

    def reply(decided: Decided) -> None:
        room.view_batches.catch_up(session)  # what was decided before, then the answer
        session.send(
            wire.Result(
                ref=message.id,
                allowed=decided.allowed,
                reason=decided.reason,
                rule=decided.rule,
                message=decided.text(language),
                params=decided.params,
                decision_id=decided.decision_id,
            )
        )

    await room.submit(event, context=context, reply=reply)
    return not isinstance(message, wire.Leave)
