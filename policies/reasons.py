"""Stable reason codes: why a decision went the way it did.

Codes never change meaning once published; clients switch on them, policy
tests assert them, and the audit log records them. ``docs/policy.md`` prints
this table (a test keeps the two in step).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REASONS", "Reason"]


class Reason(StrEnum):
    # entry
    ADMITTED = "admitted"
    ADMITTED_BY_HOST = "admitted_by_host"
    HOST_JOINED = "host_joined"
    READMITTED = "readmitted"
    WAITING_FOR_HOST = "waiting_for_host"
    PASSWORD_REQUIRED = "password_required"
    WRONG_PASSWORD = "wrong_password"
    MEETING_LOCKED = "meeting_locked"
    MEETING_FULL = "meeting_full"
    WAITING_ROOM_FULL = "waiting_room_full"
    WAITING_ROOM_SOURCE_FULL = "waiting_room_source_full"
    BANNED = "banned"
    INVITE_REQUIRED = "invite_required"
    INVITE_IN_USE = "invite_in_use"
    MEETING_ENDED = "meeting_ended"
    ALREADY_IN_MEETING = "already_in_meeting"
    DENIED = "denied"
    REMOVED = "removed"
    LEFT = "left"
    DISCONNECTED = "disconnected"
    RECONNECT_EXPIRED = "reconnect_expired"
    LOCK_CHANGED = "lock_changed"
    # names
    NAME_MISSING = "name_missing"
    NAME_INVALID_CHARACTERS = "name_invalid_characters"
    NAME_TOO_LONG = "name_too_long"
    NAME_NOT_A_NAME = "name_not_a_name"
    NAME_TOO_SHORT = "name_too_short"
    NAME_BLOCKED_WORD = "name_blocked_word"
    NAME_LOOKALIKE = "name_lookalike"
    NAME_SYMBOLS = "name_symbols"
    RENAMED = "renamed"
    # who may act
    UNKNOWN_PARTICIPANT = "unknown_participant"
    NOT_ADMITTED = "not_admitted"
    NOT_WAITING = "not_waiting"
    NOT_A_HOST = "not_a_host"
    NOT_THE_HOST = "not_the_host"
    CANNOT_TARGET_HOST = "cannot_target_host"
    ROLE_CHANGED = "role_changed"
    POLICY_UPDATED = "policy_updated"
    # audio
    UNMUTED = "unmuted"
    ALREADY_UNMUTED = "already_unmuted"
    UNMUTE_NEEDS_RAISED_HAND = "unmute_needs_raised_hand"
    UNMUTE_HOST_ONLY = "unmute_host_only"
    MUTED = "muted"
    MUTED_ALL = "muted_all"
    ASKED_TO_UNMUTE = "asked_to_unmute"
    HAND_RAISED = "hand_raised"
    HAND_LOWERED = "hand_lowered"
    # publishing and sharing
    PUBLISHED = "published"
    PUBLISHED_MUTED = "published_muted"
    PUBLISH_STOPPED = "publish_stopped"
    SHARE_NOT_ALLOWED = "share_not_allowed"
    SHARE_HOST_ONLY = "share_host_only"
    SHARE_NEEDS_GRANT = "share_needs_grant"
    SHARE_LIMIT_REACHED = "share_limit_reached"
    SURFACE_NOT_ALLOWED = "surface_not_allowed"
    SCREEN_AUDIO_NOT_ALLOWED = "screen_audio_not_allowed"
    SHARE_REQUEST_SENT = "share_request_sent"
    SHARE_NO_GRANT_NEEDED = "share_no_grant_needed"
    SHARE_AWAITING_CONFIRMATION = "share_awaiting_confirmation"
    SHARE_CONFIRMED = "share_confirmed"
    SHARE_NOT_PUBLISHED = "share_not_published"
    GRANTED = "granted"
    GRANTS_NOT_USED = "grants_not_used"
    REVOKED = "revoked"
    NO_GRANT = "no_grant"
    GRANT_EXPIRED = "grant_expired"
    STALE_TIMER = "stale_timer"
    # files
    UPLOAD_ALLOWED = "upload_allowed"
    FILE_ACCEPTED = "file_accepted"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_FORBIDDEN = "file_type_forbidden"
    FILE_TYPE_MISMATCH = "file_type_mismatch"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    FILE_INFECTED = "file_infected"
    FILE_SCAN_UNAVAILABLE = "file_scan_unavailable"
    DOWNLOAD_ALLOWED = "download_allowed"
    # chat
    CHAT_SENT = "chat_sent"
    CHAT_NOT_ALLOWED = "chat_not_allowed"
    CHAT_HOST_ONLY = "chat_host_only"
    CHAT_SENT_PRIVATELY = "chat_sent_privately"
    CHAT_PRIVATE_OFF = "chat_private_off"
    CHAT_PRIVATE_HOSTS_ONLY = "chat_private_hosts_only"
    CHAT_RECIPIENT_AWAY = "chat_recipient_away"
    CHAT_TO_SELF = "chat_to_self"
    # camera
    CAMERA_OK = "camera_ok"
    CAMERA_TOO_SLOW = "camera_too_slow"
    CAMERA_PENDING = "camera_pending"
    CAMERA_MISSING = "camera_missing"
    CAMERA_LOST = "camera_lost"
    CAMERA_RESTORED = "camera_restored"
    CAMERA_STILL_LOST = "camera_still_lost"
    CAMERA_NOT_REQUIRED = "camera_not_required"
    # the engine itself
    RULE_ERROR = "rule_error"


REASONS: dict[Reason, str] = {
    Reason.ADMITTED: "Joined directly: the waiting room is off, or this person may bypass it.",
    Reason.ADMITTED_BY_HOST: "A host or co-host admitted this person from the waiting room.",
    Reason.HOST_JOINED: "The host joined; the host never waits in its own waiting room.",
    Reason.READMITTED: (
        "Came back after a dropped connection with a valid resume token, to the place the "
        "meeting kept (waiting or admitted, role, mute, grants)."
    ),
    Reason.WAITING_FOR_HOST: "Sent to the waiting room until a host admits them.",
    Reason.PASSWORD_REQUIRED: "The meeting needs a password and none was given.",
    Reason.WRONG_PASSWORD: "The password given is wrong.",
    Reason.MEETING_LOCKED: "The meeting is locked: nobody new joins or is admitted.",
    Reason.MEETING_FULL: "The meeting has as many people as max_participants allows.",
    Reason.WAITING_ROOM_FULL: "The waiting room holds as many people as it can.",
    Reason.WAITING_ROOM_SOURCE_FULL: (
        "People from the joiner's network already hold their share of the waiting room "
        "(entry.waiting_room.max_share_per_source); others may still wait."
    ),
    Reason.BANNED: "This person was removed and may not rejoin this meeting.",
    Reason.INVITE_REQUIRED: (
        "The policy's entry.identity is 'invited': joining needs a personal invite."
    ),
    Reason.INVITE_IN_USE: (
        "Someone in the meeting (or waiting, or reconnecting) already joined with this "
        "personal invite; an invite is one person at a time."
    ),
    Reason.MEETING_ENDED: "The meeting has ended.",
    Reason.ALREADY_IN_MEETING: "This participant id is already in the meeting.",
    Reason.DENIED: "A host denied entry from the waiting room.",
    Reason.REMOVED: "A host removed this participant.",
    Reason.LEFT: "The participant left, or did not come back within reconnect_seconds.",
    Reason.DISCONNECTED: ("The connection dropped; the place is kept for entry.reconnect_seconds."),
    Reason.RECONNECT_EXPIRED: (
        "The connection stayed away longer than entry.reconnect_seconds; the place is given up."
    ),
    Reason.LOCK_CHANGED: "A host locked or unlocked the meeting.",
    Reason.NAME_MISSING: "No name was given and the policy requires a full name.",
    Reason.NAME_INVALID_CHARACTERS: (
        "The name has control, bidi-override, zero-width or other invisible characters."
    ),
    Reason.NAME_TOO_LONG: "The name is longer than full_name.max_length.",
    Reason.NAME_NOT_A_NAME: "The name is a lone letter, or digits and punctuation only.",
    Reason.NAME_TOO_SHORT: "The name has fewer words than full_name.min_words.",
    Reason.NAME_BLOCKED_WORD: "The name contains a word the policy blocks.",
    Reason.NAME_LOOKALIKE: (
        "The name looks like the name of a host or co-host (checked before the word rules, "
        "so that this is the reason given)."
    ),
    Reason.NAME_SYMBOLS: (
        "The name has digits or symbols (such as < > = or parentheses); a full name is "
        "letters and combining marks with spaces, hyphens, apostrophes, periods, commas or "
        "middle dots between them."
    ),
    Reason.RENAMED: "The participant changed its name, and the new name passed the rules.",
    Reason.UNKNOWN_PARTICIPANT: "The event names a participant who is not in the meeting.",
    Reason.NOT_ADMITTED: "Only people admitted to the meeting can do this, not those waiting.",
    Reason.NOT_WAITING: "The participant is not in the waiting room.",
    Reason.NOT_A_HOST: "Only a host or co-host can do this.",
    Reason.NOT_THE_HOST: "Only the host can do this.",
    Reason.CANNOT_TARGET_HOST: "This cannot be done to the host (or, by a co-host, to a co-host).",
    Reason.ROLE_CHANGED: "The host made a participant co-host, or made a co-host a participant.",
    Reason.POLICY_UPDATED: "The host replaced the policy; it now applies to everyone.",
    Reason.UNMUTED: "The participant unmuted, as the audio rules allow.",
    Reason.ALREADY_UNMUTED: "The participant was not muted.",
    Reason.UNMUTE_NEEDS_RAISED_HAND: "Unmuting needs a raised hand that a host accepted.",
    Reason.UNMUTE_HOST_ONLY: "Only a host's permission lets a participant unmute.",
    Reason.MUTED: "The participant was muted (by itself or by a host).",
    Reason.MUTED_ALL: "A host muted every participant.",
    Reason.ASKED_TO_UNMUTE: "A host let the participant speak; it may unmute now.",
    Reason.HAND_RAISED: "The participant raised a hand.",
    Reason.HAND_LOWERED: "The hand went down.",
    Reason.PUBLISHED: "The track is forwarded to the others.",
    Reason.PUBLISHED_MUTED: "The microphone track is accepted but not forwarded: muted.",
    Reason.PUBLISH_STOPPED: "The track (or the screen share) stopped.",
    Reason.SHARE_NOT_ALLOWED: "The policy lets nobody share this.",
    Reason.SHARE_HOST_ONLY: "Only hosts and co-hosts may share this.",
    Reason.SHARE_NEEDS_GRANT: "Sharing needs a live grant from a host.",
    Reason.SHARE_LIMIT_REACHED: "As many screens are shared as screen_share.max_concurrent allows.",
    Reason.SURFACE_NOT_ALLOWED: "The shared surface (window, tab, monitor) is not one allowed.",
    Reason.SCREEN_AUDIO_NOT_ALLOWED: "The policy does not let screen shares carry audio.",
    Reason.SHARE_REQUEST_SENT: "The request to share was sent to the hosts.",
    Reason.SHARE_NO_GRANT_NEEDED: "This participant may share without a grant.",
    Reason.SHARE_AWAITING_CONFIRMATION: (
        "The screen may be shared and reaches the server, but nothing of it is forwarded "
        "until the sharer has seen the preview and confirmed (confirm_share)."
    ),
    Reason.SHARE_CONFIRMED: "The sharer confirmed what its screen shows; it is forwarded now.",
    Reason.SHARE_NOT_PUBLISHED: (
        "There is no screen to confirm: the participant has not published one (or it stopped)."
    ),
    Reason.GRANTED: "A host granted sharing, until the grant expires.",
    Reason.GRANTS_NOT_USED: "The policy's sharing mode does not use grants.",
    Reason.REVOKED: "A host revoked the grant; any share it allowed stopped.",
    Reason.NO_GRANT: "The participant has no grant of that kind.",
    Reason.GRANT_EXPIRED: "The grant's time ran out; any share it allowed stopped.",
    Reason.STALE_TIMER: "A timer fired for something that has already changed; nothing to do.",
    Reason.UPLOAD_ALLOWED: "The participant may upload a file of the declared size.",
    Reason.FILE_ACCEPTED: "The file passed the size, type and scan rules and is offered to others.",
    Reason.FILE_TOO_LARGE: "The file is larger than file_share.max_bytes.",
    Reason.FILE_TYPE_FORBIDDEN: "The content is an executable or a script; never shared.",
    Reason.FILE_TYPE_MISMATCH: "The content is not what the file's name or declared type says.",
    Reason.FILE_TYPE_NOT_ALLOWED: "The content's type is not in file_share.types.",
    Reason.FILE_INFECTED: "The malware scan found something.",
    Reason.FILE_SCAN_UNAVAILABLE: "The policy requires a scan and none could be made; held back.",
    Reason.DOWNLOAD_ALLOWED: "People admitted to the meeting may download the files shared in it.",
    Reason.CHAT_SENT: "The chat message was delivered.",
    Reason.CHAT_NOT_ALLOWED: "The policy turns chat off.",
    Reason.CHAT_HOST_ONLY: "Only hosts and co-hosts may chat.",
    Reason.CHAT_SENT_PRIVATELY: (
        "The private message was delivered to its recipient (and echoed to the sender) only; "
        "the audit log keeps who wrote to whom, never the text."
    ),
    Reason.CHAT_PRIVATE_OFF: "The policy's chat.private is 'off': no private messages.",
    Reason.CHAT_PRIVATE_HOSTS_ONLY: (
        "The policy's chat.private is 'hosts': participants may write privately to hosts "
        "and co-hosts only, not to each other."
    ),
    Reason.CHAT_RECIPIENT_AWAY: (
        "The recipient's connection dropped (their place is kept); the private message was "
        "not sent."
    ),
    Reason.CHAT_TO_SELF: "A private message addressed to its own sender is not sent.",
    Reason.CAMERA_OK: "Working video arrives at the rate the policy asks.",
    Reason.CAMERA_TOO_SLOW: "Video arrives, but slower than entry.camera.min_fps.",
    Reason.CAMERA_PENDING: "The camera check is still running; nothing is decided yet.",
    Reason.CAMERA_MISSING: "No working video arrived within check_seconds; on_missing applies.",
    Reason.CAMERA_LOST: "The camera stopped, froze or went black; the grace period started.",
    Reason.CAMERA_RESTORED: "Working video is back.",
    Reason.CAMERA_STILL_LOST: "The camera did not come back within its grace; on_lost applies.",
    Reason.CAMERA_NOT_REQUIRED: "The policy does not require a camera for this participant.",
    Reason.RULE_ERROR: "A rule failed while deciding; the engine refused rather than guess.",
}
