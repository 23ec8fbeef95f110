"""What a decision says, by reason code (``policies/reasons.py``) and parameters.

Every reason code has a sentence of its own key (the test in
``tests/server/test_i18n_catalogs.py`` checks each catalog); a key with conditions
(``|who=you``) is the sentence for the decisions whose parameters match them, the
most specific winning. The person a sentence addresses is in its wording: "you"
for the one who acted, a name for a host who acted on someone.
"""

from __future__ import annotations

from ..markers import M_

# --- entry -------------------------------------------------------------------------
M_("admitted", "You are in the meeting.")
M_("host_joined", "You are in the meeting.")
M_("admitted_by_host", "{name} was admitted.")
M_(
    "admitted_by_host|who=all",
    "{count} admitted. {still_waiting} still waiting: the meeting is full.",
)
M_("admitted_by_host|still_waiting=0|who=all", "{count} admitted.")
M_("readmitted", "You are back.")
M_("readmitted|place=meeting", "You are back in the meeting.")
M_("readmitted|place=waiting_room", "You are back in the waiting room.")
M_("waiting_for_host", "Please wait: the host will let you in soon.")
M_("password_required", "This meeting needs a password. Ask the host for it.")
M_("wrong_password", "That password is not right. Check it and try again.")
M_("meeting_locked", "The meeting is locked. Ask the host to unlock it.")
M_("meeting_locked|who=host", "The meeting is locked. Unlock it to admit people.")
M_("meeting_full", "The meeting is full. Try again when someone leaves.")
M_("waiting_room_full", "The waiting room is full. Try again later.")
M_(
    "waiting_room_source_full",
    "Too many people from your network are waiting to join. Try again later.",
)
M_("banned", "You were removed from this meeting and cannot rejoin it.")
M_(
    "invite_required",
    "This meeting is for invited people: join with your personal invite link.",
)
M_(
    "invite_in_use",
    "Someone is already in this meeting with this invite. Each invite is for one person: "
    "ask the host for your own.",
)
M_("meeting_ended", "This meeting has ended.")
M_("meeting_ended|by=host", "The host ended the meeting.")
M_("already_in_meeting", "You are already in this meeting.")
M_("denied", "{name} was not let in.")
M_("removed", "{name} was removed.")
M_("removed|banned=yes", "{name} was removed and cannot rejoin.")
M_("left", "You left the meeting.")
M_("left|who=participant", "{name}'s connection dropped; this meeting keeps no place to resume.")
M_("disconnected", "The connection dropped.")
M_("disconnected|who=you", "Your connection dropped; resume it before acting.")
M_("disconnected|already=yes", "The connection had already dropped.")
M_(
    "disconnected|who=participant",
    "{name}'s connection dropped; their place is kept for {seconds} seconds.",
)
M_("reconnect_expired", "{name} did not come back in time; their place is given up.")
M_("lock_changed", "The host locked or unlocked the meeting.")
M_("lock_changed|state=locked", "The meeting is locked.")
M_("lock_changed|state=unlocked", "The meeting is unlocked.")

# --- names -------------------------------------------------------------------------
M_("name_missing", "Please enter your full name, at least {min_words} words.")
M_("name_missing|min_words=1", "Please enter your name.")
M_("name_missing|min_words=2", "Please enter your full name: first and last name.")
M_(
    "name_invalid_characters",
    "Your name contains invisible, control or formatting characters. Please type it again "
    "using ordinary letters.",
)
M_("name_too_long", "Your name is too long. Please use at most {max_length} characters.")
M_(
    "name_not_a_name",
    "That does not look like a name. Please enter your full name, at least {min_words} words.",
)
M_("name_not_a_name|min_words=1", "That does not look like a name. Please enter your name.")
M_(
    "name_not_a_name|min_words=2",
    "That does not look like a name. Please enter your full name: first and last name.",
)
M_("name_too_short", "The host requires your full name, at least {min_words} words.")
M_("name_too_short|min_words=1", "The host requires your name.")
M_("name_too_short|min_words=2", "The host requires your full name: first and last name.")
M_(
    "name_blocked_word",
    "Your name contains a word that is not allowed in this meeting. Please choose another name.",
)
M_(
    "name_lookalike",
    "Your name looks like the name of a host of this meeting. Please use your own name.",
)
M_(
    "name_symbols",
    "A name is made of letters, with spaces, hyphens, apostrophes or periods between them. "
    "Please type your name without digits or symbols.",
)
M_("renamed", "Your name is now {name}.")

# --- who may act -------------------------------------------------------------------
M_("unknown_participant", "That person is not in this meeting.")
M_("unknown_participant|who=you", "You are not in this meeting; join it first.")
M_(
    "unknown_participant|place=given_up|who=you",
    "Your place in this meeting was given up; join again.",
)
M_(
    "unknown_participant|who=participant",
    "That participant is not in this meeting (they may have left).",
)
M_(
    "unknown_participant|who=recipient",
    "That person is not in the meeting, so the message was not sent.",
)
M_("not_admitted", "Only people admitted to the meeting can do this.")
M_("not_admitted|who=you", "You are in the waiting room; the host will let you in.")
M_("not_admitted|who=participant", "{name} is in the waiting room; admit or deny them.")
M_("not_admitted|what=media", "You are in the waiting room: nothing of yours is published.")
M_("not_admitted|what=download", "Only people admitted to the meeting can download its files.")
M_(
    "not_waiting",
    "That person is not in the waiting room (they may have left or been admitted).",
)
M_(
    "not_waiting|action=deny",
    "That person is not in the waiting room; to send someone out, remove them.",
)
M_("not_a_host", "Only a host or co-host can do this.")
M_("not_the_host", "Only the host can do this.")
M_(
    "cannot_target_host",
    "Hosts cannot be acted on this way; only the host can act on a co-host.",
)
M_("role_changed", "{name}'s role changed.")
M_("role_changed|role=cohost", "{name} is now a co-host.")
M_("role_changed|role=participant", "{name} is now a participant.")
M_("policy_updated", "The meeting's policy was updated and applies to everyone now.")

# --- audio -------------------------------------------------------------------------
M_("unmuted", "You are unmuted.")
M_("already_unmuted", "You are not muted.")
M_("unmute_needs_raised_hand", "Raise your hand; the host will let you speak.")
M_("unmute_host_only", "Only the host can let you speak in this meeting.")
M_("muted", "The microphone is muted.")
M_("muted|who=you", "You are muted.")
M_("muted|who=participant", "{name} is muted.")
M_("muted_all", "Everyone is muted.")
M_("asked_to_unmute", "{name} may unmute now.")
M_("hand_raised", "Your hand is raised; the host has been told.")
M_("hand_lowered", "The hand is down.")

# --- publishing and sharing --------------------------------------------------------
M_("published", "The track is forwarded to the others.")
M_("published|source=microphone", "Your microphone is on.")
M_("published|source=camera", "Your camera is on.")
M_("published|source=screen", "You are sharing your screen.")
M_("published|source=screen_audio", "Your screen's sound is shared.")
M_("published_muted", "Your microphone is connected; you are muted.")
M_("publish_stopped", "The track stopped.")
M_("publish_stopped|source=screen", "You stopped sharing.")
M_("share_not_allowed", "Nobody may share this in this meeting.")
M_("share_not_allowed|kind=screen", "Nobody may share your screen in this meeting.")
M_("share_not_allowed|kind=file", "Nobody may share files in this meeting.")
M_("share_host_only", "Only the host may share this in this meeting.")
M_("share_host_only|kind=screen", "Only the host may share your screen in this meeting.")
M_("share_host_only|kind=file", "Only the host may share files in this meeting.")
M_("share_needs_grant", "Ask the host for permission to share first.")
M_("share_needs_grant|kind=screen", "Ask the host for permission to share your screen first.")
M_("share_needs_grant|kind=file", "Ask the host for permission to share files first.")
M_("share_limit_reached", "Someone else is sharing; wait until they stop.")
M_("surface_not_allowed", "Share {allowed:or.surface}.")
M_(
    "surface_not_allowed|surface=monitor",
    "Share {allowed:or.surface}, not your whole screen.",
)
M_("screen_audio_not_allowed", "Screen shares in this meeting cannot carry sound.")
M_("share_request_sent", "The host has been asked; you can share once they allow it.")
M_(
    "share_awaiting_confirmation",
    "Check what you share, then confirm it: nothing is shown to anyone until you do.",
)
M_("share_confirmed", "You are sharing your screen.")
M_("share_confirmed|already=yes", "You are sharing already.")
M_("share_not_published", "There is no screen to confirm: choose a window to share first.")
M_("share_no_grant_needed", "You may share without asking.")
M_("share_no_grant_needed|kind=screen", "You may share your screen.")
M_("share_no_grant_needed|kind=file", "You may share files.")
M_("granted", "{name} may share for {seconds:duration}.")
M_("granted|kind=screen", "{name} may share their screen for {seconds:duration}.")
M_("granted|kind=file", "{name} may share files for {seconds:duration}.")
M_(
    "grants_not_used",
    "Sharing here is '{mode}', which uses no grants; change the policy to 'with_grant'.",
)
M_("revoked", "{name} can no longer share.")
M_("revoked|kind=screen", "{name} can no longer share their screen.")
M_("revoked|kind=file", "{name} can no longer share files.")
M_("no_grant", "{name} has no permission to revoke.")
M_("grant_expired", "Your time to share is up.")
M_("grant_expired|kind=screen", "Your time to share your screen is up.")
M_("grant_expired|kind=file", "Your time to share files is up.")
M_("stale_timer", "Nothing to do: what this timer was for has already changed.")

# --- files -------------------------------------------------------------------------
M_("upload_allowed", "You may upload the file.")
M_("file_accepted", "Your file is shared.")
M_("file_too_large", "The file is {bytes:size}; files here can be at most {max_bytes:size}.")
M_("file_type_forbidden", "Programs and scripts cannot be shared in meetings.")
M_(
    "file_type_mismatch",
    "The file's content does not match its name or type, so it was not shared.",
)
M_(
    "file_type_not_allowed",
    "Files of type {type} cannot be shared here; allowed: {allowed:list}.",
)
M_("file_infected", "The malware scan flagged this file, so it was not shared.")
M_(
    "file_scan_unavailable",
    "The file could not be checked for malware right now; try again later.",
)
M_("download_allowed", "You may download the file.")

# --- chat --------------------------------------------------------------------------
M_("chat_sent", "Sent.")
M_("chat_not_allowed", "Chat is off in this meeting.")
M_("chat_host_only", "Only the host can chat in this meeting.")
M_("chat_sent_privately", "Sent privately to {name}.")
M_("chat_private_off", "Private messages are off in this meeting; write to everyone instead.")
M_(
    "chat_private_hosts_only",
    "In this meeting you can write privately to the host and co-hosts only.",
)
M_(
    "chat_recipient_away",
    "{name}'s connection dropped, so the message was not sent; try again when they are back.",
)
M_("chat_to_self", "That is you: pick someone else, or Everyone.")

# --- camera ------------------------------------------------------------------------
M_("camera_ok", "Your camera works.")
M_(
    "camera_too_slow",
    "Your video arrives at {fps} frames a second; at least {min_fps} are needed.",
)
M_("camera_pending", "No working video yet; the camera check is still running.")
M_(
    "camera_missing",
    "The host requires working video and none arrived. Turn on your camera.",
)
M_(
    "camera_lost",
    "Your camera {cause:phrase.camera_cause}. Turn it back on within {seconds} seconds.",
)
M_("camera_restored", "Your camera is back.")
M_("camera_still_lost", "Your camera {cause:phrase.camera_cause}.")
M_("camera_not_required", "No camera is required of you.")

# --- the engine itself -------------------------------------------------------------
M_("rule_error", "A rule failed while deciding, so this is refused.")
M_("rule_error|event=*", "meetwarden has no rule for a {event} event, so it is refused.")
M_("rule_error|error=*", "The rule for this event failed ({error}), so it is refused.")
