"""The server's own codes, beside the engine's: joins the server refused before the
engine was asked, people sent away, media connections that failed, policies refused."""

from __future__ import annotations

from ..markers import M_

M_("join_failed", "Could not join: check the meeting link and the password.")
M_("too_many_attempts", "Too many attempts. Try again in {minutes} minutes.")
M_("too_many_attempts|minutes=1", "Too many attempts. Try again in 1 minute.")

# What the person sent away reads when a host did it.
M_("dismissed", "You are no longer in the meeting.")
M_("dismissed|why=denied", "The host did not let you into this meeting.")
M_("dismissed|why=removed", "The host removed you from the meeting.")
M_("dismissed|why=banned", "The host removed you from the meeting; you cannot rejoin it.")
M_("dismissed|why=ended", "The host ended the meeting.")

M_("policy_invalid", "The policy has {count} errors; the old one stays in force.")
M_("policy_invalid|count=1", "The policy has 1 error; the old one stays in force.")
M_(
    "policy_unsupported",
    "This server cannot do what the policy asks: {problems}; the old one stays in force.",
)

M_(
    "media_failed",
    "A media connection {failure:phrase.connection_failure}. The server closed it.",
)
M_(
    "media_failed|direction=publish",
    "Your connection for sending your camera, microphone or screen "
    "{failure:phrase.connection_failure}. The server closed it; publish again to get media "
    "back.",
)
M_(
    "media_failed|direction=subscribe",
    "Your connection for receiving the others' media {failure:phrase.connection_failure}. "
    "The server closed it; subscribe again to get media back.",
)
M_(
    "phrase:connection_failure=ice_failed",
    "could not be set up: no network path to the server worked (ICE failed)",
)
M_(
    "phrase:connection_failure=dtls_failed",
    "failed its security handshake (DTLS): the a=fingerprint of your description must be "
    "your certificate's",
)
M_("phrase:connection_failure=timed_out", "did not connect in time")
M_("phrase:connection_failure=lost", "was lost or closed by your side")
