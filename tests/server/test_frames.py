"""``read_frame``: one text frame from a participant's socket, read as the socket reads it."""

from __future__ import annotations

import pytest

from meetwarden import protocol as wire
from meetwarden.server.ws import read_frame


def test_a_valid_frame_is_its_message() -> None:
    message = read_frame('{"type": "chat", "id": 7, "text": "hello"}')
    assert isinstance(message, wire.Chat)
    assert (message.id, message.text) == (7, "hello")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "malformed"),
        ('{"type": "chat", "type": "leave"}', "malformed"),
        ("[" * 17 + "]" * 17, "malformed"),
        ('["chat"]', "malformed"),
        ('{"type": 5}', "malformed"),
        ('{"type": "fly", "id": 3}', "unknown_type"),
        ('{"type": "chat", "id": 3}', "invalid"),
    ],
)
def test_a_bad_frame_is_the_error_that_answers_it(text: str, code: str) -> None:
    answer = read_frame(text)
    assert isinstance(answer, wire.Error)
    assert answer.code == code
    assert answer.message


def test_the_error_carries_the_requests_id_only_when_it_is_a_valid_id() -> None:
    def ref_of(text: str) -> int | None:
        answer = read_frame(text)
        assert isinstance(answer, wire.Error)
        return answer.ref

    assert ref_of('{"type": "chat", "id": 3}') == 3
    assert ref_of('{"type": "fly", "id": 4}') == 4
    assert ref_of('{"type": "chat", "id": true}') is None
    assert ref_of('{"type": "chat", "id": -1}') is None
    assert ref_of('{"type": "chat", "id": 9007199254740993}') is None
