"""A policy in plain words (``policies/explain.py`` names the sentences and their values)."""

from __future__ import annotations

from ..markers import M_

M_("explain:password|required=yes", "A password is needed to join (an invite stands in for it).")
M_("explain:password|required=no", "No password is needed to join.")
M_(
    "explain:waiting_room",
    "Everyone waits in the waiting room until a host or co-host admits them.",
)
M_(
    "explain:waiting_room_bypass",
    "Everyone waits in the waiting room until a host or co-host admits them; "
    "{bypass:and.bypass} go straight in.",
)
M_("explain:host_never_waits", "The host never waits.")
M_("explain:no_waiting_room", "There is no waiting room: people go straight in.")
M_(
    "explain:source_share",
    "People joining from one network (an IPv4 /24 or IPv6 /64) hold at most {places} places "
    "in the waiting room at once, so that one source cannot fill it; people with an invite, "
    "co-hosts and hosts are not counted.",
)
M_(
    "explain:source_share|places=1",
    "People joining from one network (an IPv4 /24 or IPv6 /64) hold at most 1 place in the "
    "waiting room at once, so that one source cannot fill it; people with an invite, co-hosts "
    "and hosts are not counted.",
)
M_(
    "explain:source_share_unlimited",
    "People from one network may take every place in the waiting room.",
)
M_(
    "explain:locked|starts=locked",
    "The meeting starts locked: nobody new gets in until a host unlocks it.",
)
M_("explain:locked|starts=unlocked", "The meeting starts unlocked; a host can lock it at any time.")
M_("explain:max_participants", "At most {count} people are in at once.")
M_(
    "explain:identity|mode=invited",
    "Only people with a personal invite can join: the meeting's link alone does not let anyone "
    "in. Each invite is one person: while someone is in with it, nobody else can use it.",
)
M_("explain:identity|mode=anyone", "Anyone with the link can join, under the name they type.")
M_(
    "explain:identity|mode=anyone|password=yes",
    "Anyone with the link can join (with the password), under the name they type.",
)
M_(
    "explain:full_name",
    "Everyone must give a name of {min_words}+ words (names written without spaces, such as "
    "Chinese or Japanese names, count as full), at most {max_length} characters.",
)
M_(
    "explain:full_name|min_words=2",
    "Everyone must give a full name (names written without spaces, such as Chinese or "
    "Japanese names, count as full), at most {max_length} characters.",
)
M_("explain:any_name", "Any name is accepted, up to {max_length} characters.")
M_("explain:invisible_characters", "Invisible and direction-changing characters are refused.")
M_("explain:blocked_words", "Names may not contain {words:quoted}.")
M_(
    "explain:lookalikes",
    "A name that looks like the name of {roles:or.role} (even with look-alike letters) is refused.",
)
M_(
    "explain:camera_required",
    "Participants must send working video ({min_fps}+ frames a second, not black or frozen) "
    "within {check_seconds} seconds of admission, or {action:phrase.camera_action}.",
)
M_(
    "explain:camera_lost",
    "If video stops later and is not back within {lost_grace_seconds} seconds, "
    "{action:phrase.camera_action}.",
)
M_("explain:camera_not_required", "A camera is not required.")
M_("explain:who_shares|mode=nobody", "Nobody may {what:phrase.share}.")
M_("explain:who_shares|mode=host_only", "Only hosts and co-hosts may {what:phrase.share}.")
M_(
    "explain:who_shares|mode=with_grant",
    "Hosts and co-hosts may {what:phrase.share}; a participant may once a host grants it, for "
    "{minutes} minutes unless the host says otherwise.",
)
M_("explain:who_shares|mode=anyone", "Anyone in the meeting may {what:phrase.share}.")
M_(
    "explain:screens",
    "At most {max_concurrent} at a time, showing only {surfaces:or.surface}.",
)
M_(
    "explain:share_preview",
    "Whoever shares first sees a preview of exactly what will be shown and confirms it; "
    "nothing is forwarded before.",
)
M_("explain:grant_ends_with_share", "A grant ends when its share stops.")
M_("explain:screen_audio|allowed=yes", "Screen audio is allowed.")
M_("explain:screen_audio|allowed=no", "Screen audio is not shared.")
M_(
    "explain:files",
    "Files up to {max_bytes:size} of these types, judged by content: {types:list}. Programs "
    "and scripts never.",
)
M_("explain:scan", "Every file is scanned for malware before anyone sees it.")
M_("explain:mute_on_entry|muted=yes", "Everyone except hosts is muted on entry.")
M_("explain:mute_on_entry|muted=no", "People keep their microphone on when they come in.")
M_("explain:unmute|mode=self", "Participants unmute themselves.")
M_(
    "explain:unmute|mode=after_raised_hand",
    "To speak, a participant raises a hand; once a host allows it, they may unmute.",
)
M_("explain:unmute|mode=host_only", "Only a host's permission lets a participant unmute.")
M_("explain:muted_audio", "Audio of a muted participant is never forwarded.")
M_("explain:chat|mode=nobody", "Chat is off.")
M_("explain:chat|mode=host_only", "Only hosts and co-hosts can chat.")
M_("explain:chat|mode=everyone", "Everyone in the meeting can chat; people waiting cannot.")
M_(
    "explain:chat_private|mode=off",
    "There are no private messages: every message goes to everyone.",
)
M_(
    "explain:chat_private|mode=hosts",
    "Participants can write privately to the host and co-hosts only; hosts and co-hosts can "
    "write privately to anyone.",
)
M_(
    "explain:chat_private|mode=everyone",
    "Anyone in the meeting can write privately to anyone in the meeting.",
)
M_("explain:private_recipient_only", "Only the recipient sees a private message.")
M_("explain:rejoin|mode=never", "Someone removed cannot rejoin this meeting.")
M_(
    "explain:rejoin|mode=via_waiting_room",
    "Someone removed can only come back through the waiting room.",
)
M_(
    "explain:rejoin|mode=allowed",
    "Someone removed may rejoin like anyone else; a host can still ban them.",
)
M_(
    "explain:ban_holds|identity=invited",
    "A removal or a ban holds against the person's personal invite, whatever name or device "
    "they use.",
)
M_(
    "explain:ban_holds|identity=invited|what=ban",
    "A ban holds against the person's personal invite, whatever name or device they use.",
)
M_(
    "explain:ban_holds|identity=anyone",
    "A removal or a ban holds against their device and their name only (and their invite, if "
    "they came with one): a determined person can come back under another name from another "
    'device (set entry.identity to "invited" to hold it against a personal invite).',
)
M_(
    "explain:ban_holds|identity=anyone|what=ban",
    "A ban holds against their device and their name only (and their invite, if they came "
    "with one): a determined person can come back under another name from another device "
    '(set entry.identity to "invited" to hold it against a personal invite).',
)
