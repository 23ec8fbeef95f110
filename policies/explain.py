"""A policy in plain words, rule by rule (``meetwarden policy explain``).

The engine stays free of sentences: each rule is explained as a few sentence keys
and their parameters, and the edge writes them in the reader's language from the
message catalogs (``meetwarden.server.i18n``), as it writes decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .effects import Params, ParamValue
from .model import Policy

__all__ = ["Explanation", "Sentence", "explain"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence to write: a catalog key (``explain:...``) and its parameters."""

    key: str
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Explanation:
    """What one rule of the policy means, as sentences read one after another."""

    rule: str
    """The JSON pointer of the rule, such as ``/audio/unmute``."""
    sentences: tuple[Sentence, ...]


def _say(key: str, **params: ParamValue) -> Sentence:
    return Sentence(f"explain:{key}", params)


def _rule(pointer: str, *sentences: Sentence) -> Explanation:
    return Explanation(pointer, sentences)


def _entry(policy: Policy) -> list[Explanation]:
    entry = policy.entry
    lines = [_rule("/entry/password", _say("password", required="yes" if entry.password else "no"))]
    room = entry.waiting_room
    if room.enabled:
        bypass = tuple(b for b in room.bypass if b != "host")
        waits = _say("waiting_room_bypass", bypass=bypass) if bypass else _say("waiting_room")
        lines.append(_rule("/entry/waiting_room", waits, _say("host_never_waits")))
    else:
        lines.append(_rule("/entry/waiting_room", _say("no_waiting_room")))
    share = room.max_share_per_source
    if share < 100:
        places = max(1, entry.max_participants * share // 100)
        source = _say("source_share", places=places)
    else:
        source = _say("source_share_unlimited")
    lines.append(_rule("/entry/waiting_room/max_share_per_source", source))
    lines.append(
        _rule("/entry/locked", _say("locked", starts="locked" if entry.locked else "unlocked"))
    )
    lines.append(
        _rule("/entry/max_participants", _say("max_participants", count=entry.max_participants))
    )
    if entry.identity == "invited":
        identity = _say("identity", mode="invited")
    else:
        identity = _say("identity", mode="anyone", password="yes" if entry.password else "no")
    lines.append(_rule("/entry/identity", identity))
    name = entry.full_name
    if name.required:
        words = _say("full_name", min_words=name.min_words, max_length=name.max_length)
    else:
        words = _say("any_name", max_length=name.max_length)
    lines.append(_rule("/entry/full_name/required", words, _say("invisible_characters")))
    if name.blocked_words:
        lines.append(
            _rule(
                "/entry/full_name/blocked_words",
                _say("blocked_words", words=tuple(name.blocked_words)),
            )
        )
    if name.reject_lookalikes_of:
        lines.append(
            _rule(
                "/entry/full_name/reject_lookalikes_of",
                _say("lookalikes", roles=tuple(name.reject_lookalikes_of)),
            )
        )
    camera = entry.camera
    if camera.required:
        lines.append(
            _rule(
                "/entry/camera",
                _say(
                    "camera_required",
                    min_fps=camera.min_fps,
                    check_seconds=camera.check_seconds,
                    action=camera.on_missing,
                ),
                _say(
                    "camera_lost",
                    lost_grace_seconds=camera.lost_grace_seconds,
                    action=camera.on_lost,
                ),
            )
        )
    else:
        lines.append(_rule("/entry/camera", _say("camera_not_required")))
    return lines


def _sharing(policy: Policy) -> list[Explanation]:
    screen = policy.screen_share
    said = [_say("who_shares", what="screen", mode=screen.allowed, minutes=screen.grant_minutes)]
    if screen.allowed != "nobody":
        said.append(
            _say("screens", max_concurrent=screen.max_concurrent, surfaces=tuple(screen.surfaces))
        )
        said.append(_say("share_preview"))
        if screen.allowed == "with_grant" and screen.grant_ends_with_share:
            said.append(_say("grant_ends_with_share"))
        said.append(_say("screen_audio", allowed="yes" if screen.audio else "no"))
    files = policy.file_share
    shared = [_say("who_shares", what="file", mode=files.allowed, minutes=files.grant_minutes)]
    if files.allowed != "nobody":
        shared.append(_say("files", max_bytes=files.max_bytes, types=tuple(files.types)))
        if files.scan:
            shared.append(_say("scan"))
    return [_rule("/screen_share", *said), _rule("/file_share", *shared)]


def explain(policy: Policy) -> list[Explanation]:
    """Every rule of the policy, in document order, as sentences to write."""
    lines = _entry(policy)
    audio = policy.audio
    lines.append(
        _rule(
            "/audio/mute_on_entry",
            _say("mute_on_entry", muted="yes" if audio.mute_on_entry else "no"),
        )
    )
    lines.append(_rule("/audio/unmute", _say("unmute", mode=audio.unmute), _say("muted_audio")))
    lines += _sharing(policy)
    lines.append(_rule("/chat/allowed", _say("chat", mode=policy.chat.allowed)))
    if policy.chat.allowed != "nobody":
        lines.append(
            _rule(
                "/chat/private",
                _say("chat_private", mode=policy.chat.private),
                _say("private_recipient_only"),
            )
        )
    rejoin = policy.removal.rejoin
    lines.append(
        _rule(
            "/removal/rejoin",
            _say("rejoin", mode=rejoin),
            _say(
                "ban_holds",
                identity=policy.entry.identity,
                what="ban" if rejoin == "allowed" else "removal",
            ),
        )
    )
    return lines
