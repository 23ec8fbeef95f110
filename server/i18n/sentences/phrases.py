"""Words that fill a sentence's placeholders (``{cause:phrase.camera_cause}``) and units."""

from __future__ import annotations

from ..markers import M_

# A camera that stopped: "Your camera {cause}."
M_("phrase:camera_cause=stopped", "stopped sending video")
M_("phrase:camera_cause=frozen", "froze")
M_("phrase:camera_cause=black", "is sending black")
M_("phrase:camera_cause=not_back", "did not come back in time")
M_("phrase:camera_cause=missing", "sent no working video")

# What on_missing / on_lost do: "... within 10 seconds of admission, or {action}."
M_("phrase:camera_action=warn", "they and the hosts are warned")
M_("phrase:camera_action=waiting_room", "they go back to the waiting room")
M_("phrase:camera_action=remove", "they are removed from the meeting")

# What can be shared on screen.
M_("phrase:surface=window", "a window")
M_("phrase:surface=browser", "a browser tab")
M_("phrase:surface=monitor", "a whole screen")

# Who skips the waiting room, whose name may not be imitated.
M_("phrase:bypass=cohost", "co-hosts")
M_("phrase:bypass=invited", "people with an invite")
M_("phrase:role=host", "the host")
M_("phrase:role=cohost", "a co-host")

# What sharing is about: "Nobody may {what}."
M_("phrase:share=screen", "share a screen")
M_("phrase:share=file", "share files")

# Units.
M_("unit:bytes", "{count} bytes")
M_("unit:bytes|count=1", "1 byte")
M_("unit:seconds", "{count} seconds")
M_("unit:seconds|count=1", "1 second")
M_("unit:minutes", "{count} minutes")
M_("unit:minutes|count=1", "1 minute")
