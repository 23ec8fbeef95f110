"""A policy in plain words, rule by rule (``meetwarden policy explain``)."""

from __future__ import annotations

from .model import Policy

__all__ = ["explain"]

_WHO = {
    "nobody": "Nobody may {what}.",
    "host_only": "Only hosts and co-hosts may {what}.",
    "with_grant": (
        "Hosts and co-hosts may {what}; a participant may once a host grants it, "
        "for {minutes} minutes unless the host says otherwise."
    ),
    "anyone": "Anyone in the meeting may {what}.",
}

_ACTIONS = {
    "warn": "they and the hosts are warned",
    "waiting_room": "they go back to the waiting room",
    "remove": "they are removed from the meeting",
}

_BYPASS = {"host": "the host", "cohost": "co-hosts", "invited": "people with an invite"}


def _sizes(count: int) -> str:
    if count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    if count % 1024 == 0:
        return f"{count // 1024} KB"
    return f"{count} bytes"


def _entry(policy: Policy) -> list[tuple[str, str]]:
    entry = policy.entry
    lines: list[tuple[str, str]] = []
    if entry.password:
        lines.append(
            ("/entry/password", "A password is needed to join (an invite stands in for it).")
        )
    else:
        lines.append(("/entry/password", "No password is needed to join."))
    room = entry.waiting_room
    if room.enabled:
        who = ", ".join(_BYPASS[b] for b in room.bypass if b != "host")
        text = "Everyone waits in the waiting room until a host or co-host admits them"
        text += f"; {who} go straight in." if who else "."
        lines.append(("/entry/waiting_room", text + " The host never waits."))
    else:
        lines.append(("/entry/waiting_room", "There is no waiting room: people go straight in."))
    share = room.max_share_per_source
    if share < 100:
        places = max(1, entry.max_participants * share // 100)
        lines.append(
            (
                "/entry/waiting_room/max_share_per_source",
                f"People joining from one network (an IPv4 /24 or IPv6 /64) hold at most "
                f"{places} place{'s' if places > 1 else ''} in the waiting room at once, so "
                "that one source cannot fill it; people with an invite, co-hosts and hosts "
                "are not counted.",
            )
        )
    else:
        lines.append(
            (
                "/entry/waiting_room/max_share_per_source",
                "People from one network may take every place in the waiting room.",
            )
        )
    lines.append(
        (
            "/entry/locked",
            "The meeting starts locked: nobody new gets in until a host unlocks it."
            if entry.locked
            else "The meeting starts unlocked; a host can lock it at any time.",
        )
    )
    lines.append(
        ("/entry/max_participants", f"At most {entry.max_participants} people are in at once.")
    )
    if entry.identity == "invited":
        text = (
            "Only people with a personal invite can join: the meeting's link alone does not "
            "let anyone in. Each invite is one person: while someone is in with it, nobody "
            "else can use it."
        )
    else:
        text = (
            "Anyone with the link can join"
            + (" (with the password)" if entry.password else "")
            + ", under the name they type."
        )
    lines.append(("/entry/identity", text))
    name = entry.full_name
    if name.required:
        words = "a full name" if name.min_words == 2 else f"a name of {name.min_words}+ words"
        text = (
            f"Everyone must give {words} (names written without spaces, such as Chinese or "
            f"Japanese names, count as full), at most {name.max_length} characters."
        )
    else:
        text = f"Any name is accepted, up to {name.max_length} characters."
    text += " Invisible and direction-changing characters are refused."
    lines.append(("/entry/full_name/required", text))
    if name.blocked_words:
        blocked = ", ".join(f'"{w}"' for w in name.blocked_words)
        lines.append(("/entry/full_name/blocked_words", f"Names may not contain {blocked}."))
    if name.reject_lookalikes_of:
        roles = " or ".join(
            "the host" if r == "host" else "a co-host" for r in name.reject_lookalikes_of
        )
        lines.append(
            (
                "/entry/full_name/reject_lookalikes_of",
                f"A name that looks like {roles}'s name (even with look-alike letters) is refused.",
            )
        )
    camera = entry.camera
    if camera.required:
        lines.append(
            (
                "/entry/camera",
                f"Participants must send working video ({camera.min_fps}+ frames a second, not "
                f"black or frozen) within {camera.check_seconds} seconds of admission, or "
                f"{_ACTIONS[camera.on_missing]}. If video stops later and is not back within "
                f"{camera.lost_grace_seconds} seconds, {_ACTIONS[camera.on_lost]}.",
            )
        )
    else:
        lines.append(("/entry/camera", "A camera is not required."))
    return lines


def explain(policy: Policy) -> list[tuple[str, str]]:
    """(JSON pointer, sentence) for every rule of the policy, in document order."""
    lines = _entry(policy)
    audio = policy.audio
    lines.append(
        (
            "/audio/mute_on_entry",
            "Everyone except hosts is muted on entry."
            if audio.mute_on_entry
            else "People keep their microphone on when they come in.",
        )
    )
    unmute = {
        "self": "Participants unmute themselves.",
        "after_raised_hand": (
            "To speak, a participant raises a hand; once a host allows it, they may unmute."
        ),
        "host_only": "Only a host's permission lets a participant unmute.",
    }[audio.unmute]
    lines.append(("/audio/unmute", unmute + " Audio of a muted participant is never forwarded."))
    screen = policy.screen_share
    text = _WHO[screen.allowed].format(what="share a screen", minutes=screen.grant_minutes)
    if screen.allowed != "nobody":
        surfaces = ", ".join({"browser": "a browser tab"}.get(s, f"a {s}") for s in screen.surfaces)
        text += f" At most {screen.max_concurrent} at a time, showing only {surfaces}."
        text += (
            " Whoever shares first sees a preview of exactly what will be shown and"
            " confirms it; nothing is forwarded before."
        )
        if screen.allowed == "with_grant" and screen.grant_ends_with_share:
            text += " A grant ends when its share stops."
        text += " Screen audio is " + ("allowed." if screen.audio else "not shared.")
    lines.append(("/screen_share", text))
    files = policy.file_share
    text = _WHO[files.allowed].format(what="share files", minutes=files.grant_minutes)
    if files.allowed != "nobody":
        text += (
            f" Files up to {_sizes(files.max_bytes)} of these types, judged by content: "
            f"{', '.join(files.types)}. Programs and scripts never."
        )
        if files.scan:
            text += " Every file is scanned for malware before anyone sees it."
    lines.append(("/file_share", text))
    chat = {
        "nobody": "Chat is off.",
        "host_only": "Only hosts and co-hosts can chat.",
        "everyone": "Everyone in the meeting can chat; people waiting cannot.",
    }[policy.chat.allowed]
    lines.append(("/chat/allowed", chat))
    if policy.chat.allowed != "nobody":
        private = {
            "off": "There are no private messages: every message goes to everyone.",
            "hosts": (
                "Participants can write privately to the host and co-hosts only; hosts and "
                "co-hosts can write privately to anyone."
            ),
            "everyone": "Anyone in the meeting can write privately to anyone in the meeting.",
        }[policy.chat.private]
        lines.append(("/chat/private", f"{private} Only the recipient sees a private message."))
    rejoin = {
        "never": "Someone removed cannot rejoin this meeting.",
        "via_waiting_room": "Someone removed can only come back through the waiting room.",
        "allowed": "Someone removed may rejoin like anyone else; a host can still ban them.",
    }[policy.removal.rejoin]
    lines.append(("/removal/rejoin", f"{rejoin} {_what_a_ban_holds(policy)}"))
    return lines


def _what_a_ban_holds(policy: Policy) -> str:
    what = "A ban" if policy.removal.rejoin == "allowed" else "A removal or a ban"
    if policy.entry.identity == "invited":
        return (
            f"{what} holds against the person's personal invite, whatever name or device they use."
        )
    return (
        f"{what} holds against their device and their name only (and their invite, if they "
        "came with one): a determined person can "
        "come back under another name from another device (set entry.identity to "
        '"invited" to hold it against a personal invite).'
    )
