"""The issues of a refused policy, each in the reader's language.

An issue (``policies/errors.py``) says which sentence it is (``key``, else its
code) and what the sentence needs (``params``), beside its English ``message``.
Its sentence is ``policy_issue:<key>`` in the catalogs (``sentences/issues.py``);
the value the document held (``input_type``, ``input``) is written as
``policy_input:<input_type>`` and fills the sentence's ``{got}``. An issue whose
sentence the catalogs lack, or whose parameters do not fill it, reads as its
English message (pydantic's own, for an error type a policy cannot cause).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meetwarden.policies.errors import PolicyIssue

from .languages import Language
from .markers import N_
from .rendering import AnyParams, AnyValue, fill, keyed, placeholders, plain, template

__all__ = ["issue_json", "issue_text", "issues_listed"]

_LISTED = 3
"""How many issues a listing names before "and N more" (as ``policies.errors.listed``)."""


def _got(params: AnyParams, language: Language) -> dict[str, AnyValue]:
    """``{"got": "the string "off""}`` from an issue's ``input_type`` and ``input``."""
    kind = params.get("input_type")
    if not isinstance(kind, str):
        return {}
    written = keyed(f"policy_input:{kind}", {"input": params.get("input", "")}, language)
    return {"got": written if written is not None else kind}


def issue_text(issue: PolicyIssue, language: Language) -> str:
    """What the issue says, in ``language`` (its English message if no sentence fits)."""
    params: dict[str, AnyValue] = {**issue.params, **_got(issue.params, language)}
    text = template(f"policy_issue:{issue.sentence}", params, language)
    if text is None or not placeholders(text) <= params.keys():
        return issue.message
    return fill(text, params, language)


def issue_json(issue: PolicyIssue, language: Language) -> dict[str, Any]:
    """The issue as the wire carries it: pointer, code, message (in ``language``), key and
    params (the same in every language, for a client that writes its own sentence)."""
    return {**issue.to_json(), "message": issue_text(issue, language)}


def issues_listed(issues: Sequence[PolicyIssue], language: Language, shown: int = _LISTED) -> str:
    """The first ``shown`` issues as 'pointer: sentence', then 'and N more', in ``language``."""
    colon = plain(N_(": "), language, {})
    parts = [
        f"{issue.pointer or '/'}{colon}{issue_text(issue, language)}" for issue in issues[:shown]
    ]
    if len(issues) > shown:
        parts.append(plain(N_("and {count} more"), language, {"count": len(issues) - shown}))
    return plain(N_("; "), language, {}).join(parts)
