"""JSON-aware mutations: a seed document changed at a few places, written back as text.

A seed is read into a tree whose objects keep their (key, value) pairs in a list, so
that a mutation can repeat a key (a dict cannot), and whose leaves may be ``Raw``
text that a strict reader must refuse (``NaN``, ``1e999``, a 40-digit integer).
Each mutation picks a node by position and replaces it with an interesting value or
a string some seed uses (a value from the vocabulary in the wrong place), deletes it,
repeats its key, changes its type, nests it deeply or splices in part of another
seed. The text is then written with or without escapes, indentation and a BOM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = ["Object", "Raw", "json_documents", "mutated_json", "read_tree", "write_tree"]


@dataclass(frozen=True)
class Raw:
    """Text written as it is, where a JSON value goes."""

    text: str


class Object(list[tuple[str, Any]]):
    """A JSON object as the pairs its text holds, repeated keys included."""


_INTERESTING_LEAVES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    7,
    8,
    64,
    100,
    101,
    256,
    1000,
    1001,
    1440,
    3600,
    86400,
    2**31,
    2**53,
    2**53 + 1,
    2**63,
    2**64,
    10**29,
    -(10**30),
    0.5,
    -0.0,
    1e308,
    5e-324,
    "",
    " ",
    "a",
    "x" * 65,
    "y" * 300,
    "\u00e9",
    "\u0391lice",
    "\u202eevil",
    "\u200b",
    "\ud800",
    "\udcff",
    "\x00",
    "a/b",
    "~1",
    "Alice Host",
    Raw("1.0"),
    Raw("1E2"),
    Raw("-0"),
    Raw("0.0000000000000000000000001"),
]
_INTERESTING: list[Any] = [*_INTERESTING_LEAVES, Object(), [], [None]]
_NOT_JSON = [
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e999"),
    Raw("-1e999"),
    Raw("1" * 31),
    Raw("-" + "9" * 40),
]
"""Numbers a strict reader refuses (``json`` takes them all)."""
_DEPTHS = [1, 2, 3, 14, 15, 16, 30, 31, 32]
"""Levels of nesting to add: the socket reads 16 levels deep, a policy 32."""


def read_tree(text: str) -> Any:
    """The tree of a JSON text (objects as ``Object``); ValueError if it is not JSON."""
    return json.loads(text, object_pairs_hook=Object)


def write_tree(tree: Any, *, ascii_only: bool = True, indent: bool = False) -> str:
    """The JSON text of a tree: repeated keys and ``Raw`` leaves are written as they are."""
    newline = "\n" if indent else ""

    def write(node: Any, depth: int) -> str:
        pad = newline + "  " * (depth + 1) if indent else ""
        end = newline + "  " * depth if indent else ""
        if isinstance(node, Raw):
            return node.text
        if isinstance(node, Object):
            items = [
                f"{pad}{json.dumps(key, ensure_ascii=ascii_only)}: {write(value, depth + 1)}"
                for key, value in node
            ]
            return "{" + ",".join(items) + (end if items else "") + "}"
        if isinstance(node, list):
            items = [pad + write(value, depth + 1) for value in node]
            return "[" + ",".join(items) + (end if items else "") + "]"
        return json.dumps(node, ensure_ascii=ascii_only)

    return write(tree, 0)


def _nodes(tree: Any) -> Iterator[tuple[Any, int]]:
    """(container, index) of every value below the root, in document order."""
    if isinstance(tree, Object | list):
        for index, item in enumerate(tree):
            yield tree, index
            yield from _nodes(item[1] if isinstance(tree, Object) else item)


def _value(container: Any, index: int) -> Any:
    return container[index][1] if isinstance(container, Object) else container[index]


def _set(container: Any, index: int, value: Any) -> None:
    if isinstance(container, Object):
        container[index] = (container[index][0], value)
    else:
        container[index] = value


def _copy(tree: Any) -> Any:
    if isinstance(tree, Object):
        return Object((key, _copy(value)) for key, value in tree)
    if isinstance(tree, list):
        return [_copy(value) for value in tree]
    return tree


def _retyped(value: Any, choice: int) -> Any:
    """The same content as another JSON type."""
    if isinstance(value, Object):
        return [item for _, item in value] if choice % 2 else [value]
    if isinstance(value, list):
        return Object((str(index), item) for index, item in enumerate(value))
    if isinstance(value, bool):
        return int(value) if choice % 2 else str(value).lower()
    if isinstance(value, int | float):
        return str(value) if choice % 2 else float(value) if abs(value) < 1e300 else None
    if isinstance(value, str):
        return len(value) if choice % 2 else [value]
    return Object() if value is None else value


def _nested(value: Any, depth: int, as_object: bool) -> Any:
    for _ in range(depth):
        value = Object([("a", value)]) if as_object else [value]
    return value


_OPERATIONS = [0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 7, 8, 8, 9]
"""Each operation's share of the draws: mostly changes that keep the text JSON."""


def _mutate(
    tree: Any,
    operations: list[tuple[int, int, int]],
    words: Sequence[str],
    others: Sequence[Any],
) -> Any:
    root = Object([("", _copy(tree))])  # a container above the root, so the root can change
    for op, position, value in operations:
        nodes = list(_nodes(root))
        if len(nodes) > 1 and position % 8:  # the document itself, one time in eight
            nodes = nodes[1:]
        container, index = nodes[position % len(nodes)]
        current = _value(container, index)
        if op == 0:  # an interesting value
            _set(container, index, _copy(_INTERESTING[value % len(_INTERESTING)]))
        elif op == 1 and words:  # a string some seed uses, in this place
            _set(container, index, words[value % len(words)])
        elif op == 2 and container is not root:  # delete
            del container[index]
        elif op == 3:  # repeat: the same key (or element) again, with another value
            copied = _copy(_INTERESTING[value % len(_INTERESTING)] if value % 2 else current)
            if isinstance(container, Object):
                container.insert(index + 1, (container[index][0], copied))
            else:
                container.insert(index + 1, copied)
        elif op == 4:  # another type
            _set(container, index, _retyped(current, value))
        elif op == 5 and isinstance(current, Object) and words:  # a key some seed uses, here
            current.append(
                (words[value % len(words)], _INTERESTING_LEAVES[value % len(_INTERESTING_LEAVES)])
            )
        elif op == 6:  # deep nesting
            depth = _DEPTHS[value % len(_DEPTHS)]
            _set(container, index, _nested(current, depth, bool(value & 64)))
        elif op == 7 and others:  # part of another seed
            donors = list(_nodes(Object([("", others[value % len(others)])])))
            donor, at = donors[(value >> 4) % len(donors)]
            _set(container, index, _copy(_value(donor, at)))
        elif op == 8 and isinstance(current, bool):  # a neighbour: the other boolean
            _set(container, index, not current)
        elif op == 8 and isinstance(current, int | float):  # a neighbour: one off, negated
            _set(container, index, current + (-1, 1, -current - 1, current)[value % 4])
        elif op == 9:  # a number JSON does not allow
            _set(container, index, _NOT_JSON[value % len(_NOT_JSON)])
    return root[0][1]


def _vocabulary(trees: Sequence[Any]) -> list[str]:
    words: set[str] = set()
    for tree in trees:
        for container, index in _nodes(Object([("", tree)])):
            if isinstance(container, Object):
                words.add(container[index][0])
            if isinstance(_value(container, index), str):
                words.add(_value(container, index))
    return sorted(words - {""})


def _written(tree: Any, style: int) -> str:
    """The text of a tree, as the bytes a writer would send (a lone surrogate written
    unescaped is its three invalid UTF-8 bytes, held as surrogate escapes)."""
    text = write_tree(tree, ascii_only=not style & 1, indent=bool(style & 2))
    text = "\ufeff" + text if style & 4 else text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")


def mutated_json(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    """A JSON seed with a few tree-level mutations, written back as text."""
    trees = []
    for seed in seeds:
        try:
            trees.append(read_tree(seed.removeprefix("\ufeff")))
        except ValueError:
            continue
    if not trees:
        return st.nothing()
    words = _vocabulary(trees)
    operation = st.tuples(
        st.sampled_from(_OPERATIONS), st.integers(0, 1 << 16), st.integers(0, 1 << 16)
    )
    mutated = st.builds(
        lambda tree, operations: _mutate(tree, operations, words, trees),
        st.sampled_from(trees),
        st.lists(operation, min_size=1, max_size=4),
    )
    return st.builds(_written, mutated, st.integers(0, 7))


def json_documents(max_leaves: int = 20) -> st.SearchStrategy[str]:
    """JSON texts from nothing: any values, nested, with repeated keys and raw leaves."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(_INTERESTING_LEAVES),
        st.sampled_from(_NOT_JSON),
    )
    trees = st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.lists(st.tuples(st.text(max_size=8), children), max_size=4).map(Object),
        ),
        max_leaves=max_leaves,
    )
    return st.builds(_written, trees, st.integers(0, 7))
