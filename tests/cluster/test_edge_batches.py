"""What one bus message carries to an edge node: each text once, per session in order."""

from __future__ import annotations

from meetwarden.server.cascade.links import batch


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
