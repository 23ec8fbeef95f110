"""What an edge viewer reads of cascading's own refusals (translated: ``make messages``)."""

from __future__ import annotations

from ..i18n.markers import N_

__all__ = ["NODE_GONE", "RECEIVE_ONLY"]

RECEIVE_ONLY = N_(
    "You are watching this meeting through another server: you can see and hear it, "
    "but not send audio or video."
)
NODE_GONE = N_("The meeting's server stopped answering: reconnecting.")
