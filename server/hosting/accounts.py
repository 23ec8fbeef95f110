"""Host accounts' rules: usernames, passwords, and how many sign-in guesses are allowed.

Passwords are hashed with argon2id (``server/auth.py``'s :class:`Passwords`,
off the event loop). Following NIST SP 800-63B (section 3.1.1.2 of revision
4): a minimum length and no composition rules; every character counts,
spaces and emoji included.

Guessing is bounded twice (NIST SP 800-63B, "rate limiting"): per address,
so one source cannot try many passwords, and per account, so that many
sources together cannot either. An attempt is counted *when it starts*, in
the same synchronous step that checks the budget, so that concurrent sign-ins
cannot all pass the check before any is counted; a correct password gives its
attempt back. A node of a cluster counts them in Redis with the other nodes
(``server/cluster/attempts.py``; the budgets themselves are ``server/budgets.py``).
"""

from __future__ import annotations

import re
from typing import Final

from ..i18n.markers import N_

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "password_problem",
    "username_problem",
]

MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 256
_USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def username_problem(username: str) -> str | None:
    """Why a username (already lower-cased by the caller) is refused (an English
    message id), or None."""
    if _USERNAME.fullmatch(username) is None:
        return N_(
            "A username has 1 to 64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit."
        )
    return None


def password_problem(password: str, username: str) -> tuple[str, dict[str, int]] | None:
    """Why a new password is refused (an English message id and its parameters), or None."""
    if len(password) < MIN_PASSWORD:
        return (
            N_("A password has at least {count} characters; a few words make a good one."),
            {"count": MIN_PASSWORD},
        )
    if len(password) > MAX_PASSWORD:
        return N_("A password has at most {count} characters."), {"count": MAX_PASSWORD}
    if password.strip().lower() == username:
        return N_("The password cannot be the username."), {}
    return None
