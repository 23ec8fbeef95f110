"""What crosses the bus for edge viewers: a batch (each text once, per session in order),
and which node's messages an edge node takes for a viewer."""

from __future__ import annotations

import pytest

from meetwarden.server.cascade.links import batch
from meetwarden.server.cascade.serving import EdgeServing, _Viewer
from meetwarden.server.cluster.envelope import Message
from meetwarden.server.runtime.session import Session


def test_a_batch_carries_each_text_once_and_each_sessions_texts_and_close_in_order() -> None:
    roster, speaking, chat = '{"type":"roster_update"}', '{"type":"speaking"}', '{"type":"chat"}'
    items = [
        ("s1", roster, None),
        ("s2", roster, None),
        ("s1", speaking, None),
        ("s2", speaking, None),
        ("s2", chat, None),
        ("s1", None, (1000, "removed")),
    ]
    assert batch(items) == {
        "op": "edge_batch",
        "texts": [roster, speaking, chat],
        "items": [
            {"s": "s1", "t": [0]},
            {"s": "s2", "t": [0]},
            {"s": "s1", "t": [1]},
            {"s": "s2", "t": [1, 2]},
            {"s": "s1", "close": [1000, "removed"]},
        ],
    }


@pytest.mark.anyio
async def test_the_holders_answer_is_taken_even_when_it_comes_before_the_send_returned() -> None:
    # B publishes the join; A's answer can reach B's listener before B's PUBLISH returns
    # A's id (two connections). The first node to answer is the holder; another is not.
    viewer = _Viewer("secret-session", "meeting", Session("", device_id="", device_token=""))
    first = Message("north", {"op": "edge_accepted", "session": "secret-session"}, "meeting")
    assert EdgeServing._of_holder(viewer, first) is viewer
    assert viewer.holder == "north"
    other = Message("south", {"op": "edge_batch"}, None)
    assert EdgeServing._of_holder(viewer, other) is None
