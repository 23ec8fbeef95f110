"""What notices say, by topic (``notice:<topic>``). A notice addressed to the hosts has
``audience=hosts`` among its conditions; one about sharing has its ``kind``. Topics the
clients read from their views (roster_changed, waiting_room_changed...) have none."""

from __future__ import annotations

from ..markers import M_

M_("notice:muted_by_host", "The host muted you.")
M_("notice:asked_to_unmute", "The host asks you to unmute.")
M_("notice:hand_raised", "{name} raised a hand.")
M_("notice:promoted", "The host made you a co-host.")
M_("notice:renamed", "{old_name} is now called {name}.")

# The camera rule.
M_("notice:camera_required", "The host now requires your camera.")
M_("notice:camera_lost", "Your camera {cause:phrase.camera_cause}.")
M_(
    "notice:camera_lost|then=grace",
    "Your camera {cause:phrase.camera_cause}. The host requires video: turn it back on "
    "within {seconds} seconds.",
)
M_(
    "notice:camera_lost|then=waiting_room",
    "Your camera {cause:phrase.camera_cause}. You are back in the waiting room.",
)
M_(
    "notice:camera_lost|then=remove",
    "Your camera {cause:phrase.camera_cause}. You were removed from the meeting.",
)
M_("notice:camera_lost|audience=hosts", "{name}'s camera {cause:phrase.camera_cause}.")
M_("notice:camera_missing", "The host requires working video and none arrived.")
M_(
    "notice:camera_missing|then=waiting_room",
    "The host requires working video and none arrived. You are back in the waiting room.",
)
M_(
    "notice:camera_missing|then=remove",
    "The host requires working video and none arrived. You were removed from the meeting.",
)
M_("notice:camera_missing|audience=hosts", "No working video arrived from {name}'s camera.")
M_("notice:camera_restored", "{name}'s camera is back.")

# A subscriber's link too slow for a video (server/media/subscriber_bandwidth.py).
M_("notice:video_paused", "{name}'s video is paused: your connection is too slow for it.")
M_("notice:video_resumed", "{name}'s video is back.")

# A policy replaced under someone waiting.
M_("notice:password_required", "The meeting now needs a password. Join again with it.")
M_(
    "notice:invite_required",
    "The meeting is now for invited people. Join again with your own personal invite.",
)

# Sharing and grants.
M_("notice:share_started", "{name} is sharing their screen.")
M_("notice:share_stopped", "{name} stopped sharing.")
M_("notice:share_requested", "{name} asks to share.")
M_("notice:share_requested|kind=screen", "{name} asks to share their screen.")
M_("notice:share_requested|kind=file", "{name} asks to share files.")
M_("notice:grant_received", "You may share for the next {seconds:duration}.")
M_(
    "notice:grant_received|kind=screen",
    "You may share your screen for the next {seconds:duration}.",
)
M_("notice:grant_received|kind=file", "You may share files for the next {seconds:duration}.")
M_("notice:grant_revoked", "The host ended your permission to share.")
M_("notice:grant_revoked|kind=screen", "The host ended your permission to share your screen.")
M_("notice:grant_revoked|kind=file", "The host ended your permission to share files.")
M_("notice:grant_expired", "Your time to share is up.")
M_("notice:grant_expired|kind=screen", "Your time to share your screen is up.")
M_("notice:grant_expired|kind=file", "Your time to share files is up.")
M_("notice:grant_ended", "Your permission to share ended.")

# Files.
M_("notice:file_refused", "A file from {name} was refused.")
M_("notice:file_refused|what=program", "{name} tried to share a program.")
M_("notice:file_refused|what=disguised", "{name} shared a disguised file.")
M_("notice:file_refused|what=infected", "{name} shared an infected file.")

# The server itself, to the hosts.
M_(
    "notice:password_attempts",
    "Many wrong passwords were tried; those who keep failing are paused for a while.",
)
M_(
    "notice:policy_not_stored",
    "The new policy could not be stored ({error}: the disk may be full or read-only), so "
    "revision {revision} is in force again. Try again once the server's storage is fixed.",
)
