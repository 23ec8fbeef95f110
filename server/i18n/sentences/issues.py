"""What each issue of a refused policy says (``policy_issue:<key>``), and how it names the
value it found (``policy_input:<input_type>``, the ``{got}`` of a sentence).

An issue's key is pydantic's error type for a schema error (``int_type``,
``literal_error``...), a validator's own key, or the issue's code
(``policies/errors.py``). The English here is the English the engine writes
(``PolicyIssue.message``), word for word: ``tests/server/test_i18n_catalogs.py``
checks that they agree. An issue whose key has no sentence here (a pydantic error
type a policy cannot cause) reads as the engine's English.
"""

from __future__ import annotations

from ..markers import M_

# The value found: "got {got}".
M_("policy_input:null", "null")
M_("policy_input:true", "true")
M_("policy_input:false", "false")
M_("policy_input:string", "the string {input}")
M_("policy_input:number", "the number {input}")
M_("policy_input:list", "a list")
M_("policy_input:object", "an object")

# A value of the wrong JSON type.
M_("policy_issue:bool_type", "expected true or false, got {got}")
M_("policy_issue:int_type", "expected a whole number, got {got}")
M_("policy_issue:float_type", "expected a number, got {got}")
M_("policy_issue:string_type", "expected a string, got {got}")
M_("policy_issue:list_type", "expected a list, got {got}")
M_("policy_issue:tuple_type", "expected a list, got {got}")
M_("policy_issue:model_type", "expected an object, got {got}")
M_("policy_issue:model_attributes_type", "expected an object, got {got}")
M_("policy_issue:dict_type", "expected an object, got {got}")

# A number out of range, a choice not offered, too short or too long.
M_("policy_issue:greater_than_equal", "must be greater than or equal to {ge}; got {got}")
M_("policy_issue:greater_than", "must be greater than {gt}; got {got}")
M_("policy_issue:less_than_equal", "must be less than or equal to {le}; got {got}")
M_("policy_issue:less_than", "must be less than {lt}; got {got}")
M_("policy_issue:literal_error", "must be {expected:or}; got {got}")
M_("policy_issue:string_too_short", "must have at least {min_length} characters; got {got}")
M_("policy_issue:string_too_short|min_length=1", "must have at least 1 character; got {got}")
M_("policy_issue:string_too_long", "must have at most {max_length} characters; got {got}")
M_("policy_issue:string_too_long|max_length=1", "must have at most 1 character; got {got}")
M_("policy_issue:too_short", "must have at least {min_length} items; got {got}")
M_("policy_issue:too_short|min_length=1", "must have at least 1 item; got {got}")
M_("policy_issue:too_long", "must have at most {max_length} items; got {got}")
M_("policy_issue:too_long|max_length=1", "must have at most 1 item; got {got}")

# A field that is not there, or should not be.
M_("policy_issue:missing", "the field {field:repr} is required")
M_("policy_issue:extra_forbidden", "unknown field {field:repr}")
M_(
    "policy_issue:extra_forbidden|valid=*",
    "unknown field {field:repr}; valid fields here are: {valid}",
)
M_(
    "policy_issue:extra_forbidden|suggestion=*|valid=*",
    "unknown field {field:repr}; did you mean {suggestion:repr}? valid fields here are: {valid}",
)

# A policy's own rules (policies/sections/).
M_("policy_issue:listed_twice", "{value:repr} is listed twice; list each one once")
M_(
    "policy_issue:grant_minutes_needs_with_grant",
    "grant_minutes applies only when {section}allowed is 'with_grant' (it is {allowed:repr}); "
    "remove grant_minutes or set allowed to 'with_grant'",
)
M_(
    "policy_issue:not_a_mime_type",
    "{value:repr} is not a MIME type; write it as type/subtype, for example 'application/pdf'",
)
M_(
    "policy_issue:type_never_shared",
    "{value:repr} can never be shared: executables and scripts are refused whatever the "
    "policy lists; remove it",
)
M_(
    "policy_issue:private_chat_without_chat",
    "private is {private:repr} but chat.allowed is 'nobody', so nobody may send any message; "
    "set private to 'off' or remove it",
)
M_(
    "policy_issue:private_to_everyone_in_host_only_chat",
    "private 'everyone' would let participants write to each other, but chat.allowed "
    "'host_only' lets only hosts and co-hosts send; set private to 'hosts' (hosts write to "
    "anyone) or 'off'",
)
M_(
    "policy_issue:bypass_needs_waiting_room",
    "bypass applies only when the waiting room is enabled; remove bypass or set enabled to true",
)
M_(
    "policy_issue:required_camera_needs_min_fps",
    "a required camera needs min_fps of at least 1; with 0 any silent track would pass the check",
)
M_("policy_issue:policy_not_object", "a policy is a JSON object, got {got}")
M_("policy_issue:not_a_json_value", "the policy holds a value JSON cannot carry: {problem}")

# The document as JSON (policies/jsonload.py).
M_(
    "policy_issue:too_deep",
    "the document nests more than {max_depth} levels deep (line {line}, column {column}); "
    "a policy needs far fewer",
)
M_(
    "policy_issue:duplicate_key",
    "the key {key:repr} appears more than once in this object; keep exactly one (duplicates "
    "are never resolved silently)",
)
M_("policy_issue:not_finite", "{number} is not a number JSON allows; use a finite number")
M_("policy_issue:number_too_large", "the number {number} is far too large; use a number in range")
M_("policy_issue:too_large", "the document is over the {limit}-byte limit")
M_("policy_issue:too_large|size=*", "the document is {size} bytes; the limit is {limit} bytes")
M_(
    "policy_issue:not_utf8",
    "the file is not UTF-8 text (byte {byte} is not valid UTF-8); save it as UTF-8 JSON",
)
M_(
    "policy_issue:not_json",
    "not valid JSON: {problem:phrase.json_problem} at line {line}, column {column}",
)
# What Python's JSON parser says went wrong (its own words are the code).
M_("phrase:json_problem=Expecting value", "Expecting value")
M_("phrase:json_problem=Expecting ',' delimiter", "Expecting ',' delimiter")
M_("phrase:json_problem=Expecting ':' delimiter", "Expecting ':' delimiter")
M_(
    "phrase:json_problem=Expecting property name enclosed in double quotes",
    "Expecting property name enclosed in double quotes",
)
M_("phrase:json_problem=Unterminated string starting at", "Unterminated string starting at")
M_("phrase:json_problem=Invalid control character at", "Invalid control character at")
M_("phrase:json_problem=Invalid \\escape", "Invalid \\escape")
M_("phrase:json_problem=Invalid \\uXXXX escape", "Invalid \\uXXXX escape")
M_("phrase:json_problem=Extra data", "Extra data")

# What this server cannot do (policies/capabilities.py).
M_(
    "policy_issue:no_scanner",
    "This server has no virus scanner (clamd), so files could never be shared: set "
    "file_share.scan to false, or start the server with --clamd-socket (or --clamd-address)",
)
M_(
    "policy_issue:upload_too_large",
    "This server takes uploads of at most {limit} bytes, so a larger file could never "
    "arrive: set file_share.max_bytes to {limit} or less",
)
M_(
    "policy_issue:no_media",
    "This server forwards no audio or video (it runs with --no-media), so no camera could "
    "ever be checked and every participant would be held: set entry.camera.required to "
    "false, or start the server without --no-media",
)

# Creating a meeting (server/runtime/registry.py) and reading a file (the CLI).
M_(
    "policy_issue:password_length",
    "a meeting password has {min_length} to {max_length} characters",
)
M_(
    "policy_issue:password_needed",
    "this policy requires a password: give one when creating the meeting",
)
M_("policy_issue:unreadable", "cannot read {path}: {problem}")

# Case files (meetwarden policy test): what kind of thing a tag names.
M_(
    "policy_issue:union_tag_invalid",
    "unknown {what:phrase.case_tag} {tag:repr}; valid ones are: {valid}",
)
M_(
    "policy_issue:union_tag_invalid|suggestion=*",
    "unknown {what:phrase.case_tag} {tag:repr}; did you mean {suggestion:repr}? valid ones "
    "are: {valid}",
)
M_("policy_issue:union_tag_not_found", "the {field:repr} field is missing")
M_("phrase:case_tag=type", "event type")
M_("phrase:case_tag=effect", "effect")
M_(
    "policy_issue:unknown_reason_code",
    "unknown reason code {value:repr}; docs/policy.md lists every reason code",
)
M_(
    "policy_issue:unknown_reason_code|suggestion=*",
    "unknown reason code {value:repr}; did you mean {suggestion:repr}? docs/policy.md lists "
    "every reason code",
)
