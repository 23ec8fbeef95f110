"""Generates docs/policy.md from the models and the reason table, so they never drift.

python -m meetwarden.policies.reference > docs/policy.md
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from .capabilities import UNSUPPORTED_CODES
from .model import Policy
from .reasons import REASONS

__all__ = ["render"]

INTRO = """# The policy reference

A host writes one JSON document; meetwarden validates it strictly and applies it
to every participant event. Every field below has a default, and an omitted
section means its defaults: the private choices (waiting room on, everyone muted
on entry, screen and file sharing for hosts only). Check a policy with
`meetwarden policy check FILE`, read it back in plain words with
`meetwarden policy explain FILE`, and get the JSON Schema for your editor with
`meetwarden policy schema`.

Strictness, so that a policy means one thing to everyone who reads it:
duplicate keys are errors (never last-wins), unknown fields are errors, types are
not coerced (`"off"` is not `false`, `1` is not `true`), numbers must be finite
and in range, documents are at most 256 KiB and 32 levels deep, and the file must
be UTF-8 JSON. Contradictions are errors too: `grant_minutes` without
`allowed: "with_grant"`, a required camera with `min_fps` 0, a waiting-room
`bypass` with the waiting room off, an executable listed among file types, a
`chat.private` that lets more people write than `chat.allowed` lets send.
Each error names the JSON pointer of its field and says what would be valid, in
the reader's language (`policy check --lang zh-CN`, an HTTP request's
`Accept-Language`); its code, and the key and params of its sentence, are the
same in every language.

The meeting password itself never appears in a policy: `entry.password: true`
says one is needed, and the host gives it when creating the meeting.

Hosts and co-hosts run the meeting: they bypass mute on entry, need no grant
to share where sharing is `with_grant`, and are exempt from the camera
requirement. The host never waits in its own waiting room.

Whoever shares a screen, hosts included, first sees a preview of exactly what
will be shown and confirms it (`confirm_share` on the wire, `share_confirmed`
in the audit log): until then the screen reaches the server and stops there
(decision `share_awaiting_confirmation`). One action stops the share, and with
`grant_ends_with_share` its grant ends with it.
"""

SERVER = """## What a server must offer

A valid policy can still ask for something the server it runs on cannot do.
Each server describes itself at `GET /api/capabilities` (its malware scanner,
whether it forwards media, the largest upload it takes). Creating a meeting
from a policy that asks for more, or changing a meeting's policy to one, is
refused with the reason `policy_unsupported`, listing each problem with its
JSON pointer, one of the codes below, and a sentence that says how to fix it.
`meetwarden policy check FILE --server URL` and the web editor show the same
problems. A scanner that is configured but down is not one of them: it is a
temporary fault, and files are refused `file_scan_unavailable` until it answers.
"""

EXAMPLE = """## A complete example

```json
{example}
```
"""


def _type_name(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if schema.get("type") == "array":
        items = schema.get("items", {})
        inner = _type_name(items) if items else "value"
        return f"list of {inner}"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kind = str(schema.get("type", "object"))
    bounds = []
    if "minimum" in schema:
        bounds.append(f"≥ {schema['minimum']}")
    if "maximum" in schema:
        bounds.append(f"≤ {schema['maximum']}")
    return {"boolean": "boolean", "integer": "integer", "string": "string"}.get(kind, kind) + (
        f" ({', '.join(bounds)})" if bounds else ""
    )


def _section(model: type[BaseModel], pointer: str, out: list[str]) -> None:
    nested: list[tuple[type[BaseModel], str]] = []
    rows: list[str] = []
    schema = model.model_json_schema()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((annotation, f"{pointer}/{name}"))
            continue
        prop = schema["properties"][name]
        default = field.get_default(call_default_factory=True)
        shown = json.dumps(list(default) if isinstance(default, tuple) else default)
        doc = (field.description or "").replace("\n", " ")
        rows.append(f"| `{pointer}/{name}` | {_type_name(prop)} | `{shown}` | {doc} |")
    if rows:
        out.append(f"### `{pointer or '/'}`\n")
        out.append("| field | type | default | meaning |")
        out.append("|---|---|---|---|")
        out.extend(rows)
        out.append("")
    for child, child_pointer in nested:
        _section(child, child_pointer, out)


def render() -> str:
    out = [INTRO, "## Fields\n"]
    _section(Policy, "", out)
    example = Policy().model_dump(mode="json")
    out.append(EXAMPLE.format(example=json.dumps(example, indent=2)))
    out.append("## Reason codes\n")
    out.append(
        "Every decision carries one of these codes, the JSON pointer of the rule that "
        "made it (empty for meetwarden's own rules, such as who may act on whom), and a "
        "sentence for the participant.\n"
    )
    out.append("| code | meaning |")
    out.append("|---|---|")
    out.extend(f"| `{reason.value}` | {text} |" for reason, text in REASONS.items())
    out.append("")
    out.append(SERVER)
    out.append("| code | meaning |")
    out.append("|---|---|")
    out.extend(f"| `{code}` | {text} |" for code, text in UNSUPPORTED_CODES.items())
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
