"""Which policy rules a run of case files reached, rule path by rule path (``--coverage``).

Every decision names the JSON pointer of the rule that made it. A rule path counts
once for each case in which some decision (in ``given`` or ``when``, timers included)
named exactly that path: no prefix matching, so ``/entry/waiting_room/enabled`` and
``/entry/waiting_room/bypass`` are two rules, and reaching one says nothing of the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Set

__all__ = ["RULE_PATHS", "rule_coverage"]

RULE_PATHS: tuple[str, ...] = (
    "/entry/password",
    "/entry/waiting_room",
    "/entry/waiting_room/enabled",
    "/entry/waiting_room/bypass",
    "/entry/waiting_room/max_share_per_source",
    "/entry/locked",
    "/entry/max_participants",
    "/entry/identity",
    "/entry/reconnect_seconds",
    "/entry/full_name",
    "/entry/full_name/required",
    "/entry/full_name/min_words",
    "/entry/full_name/max_length",
    "/entry/full_name/blocked_words",
    "/entry/full_name/reject_lookalikes_of",
    "/entry/camera",
    "/entry/camera/required",
    "/entry/camera/check_seconds",
    "/entry/camera/min_fps",
    "/entry/camera/on_missing",
    "/entry/camera/on_lost",
    "/entry/camera/lost_grace_seconds",
    "/audio",
    "/audio/mute_on_entry",
    "/audio/unmute",
    "/screen_share",
    "/screen_share/allowed",
    "/screen_share/grant_minutes",
    "/screen_share/grant_ends_with_share",
    "/screen_share/max_concurrent",
    "/screen_share/surfaces",
    "/screen_share/audio",
    "/file_share",
    "/file_share/allowed",
    "/file_share/grant_minutes",
    "/file_share/max_bytes",
    "/file_share/types",
    "/file_share/scan",
    "/chat/allowed",
    "/chat/private",
    "/removal/rejoin",
)
"""Every rule path a decision can name, besides "" (meetwarden's own rules: who may act
on whom). tests/policies/test_case_files.py keeps it in step with the rules' code."""


def rule_coverage(rules_per_case: Iterable[Set[str]]) -> dict[str, int]:
    """For each rule path (RULE_PATHS, then any other named), how many cases reached it."""
    counts: Counter[str] = Counter()
    for rules in rules_per_case:
        counts.update(set(rules))
    ordered = {path: counts[path] for path in RULE_PATHS}
    ordered.update({path: n for path, n in sorted(counts.items()) if path not in ordered})
    return ordered
