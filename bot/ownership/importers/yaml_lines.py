"""YAML loading that remembers where every mapping key and list item starts, for line-numbered errors."""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import yaml
from yaml import events
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode

from bot.ownership.importers.model import ImportFileError, Problem

# Switchboard and Backstage files nest a handful of levels; far deeper is an attack on the parser.
MAX_DEPTH = 64
# Aliases may repeat what a file writes out, within bounds: ten times over, or 10,000 values.
MAX_EXPANSION = 10
MIN_EXPANDED = 10_000


class LineDict(dict[Any, Any]):
    """A mapping with the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A sequence with the line it starts on and the line of each item."""

    line: int = 0
    item_lines: list[int]


# libyaml's parser is some 20x faster than PyYAML's pure-Python one: a 10,000-area file in a second.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    pass


def _construct_mapping(loader: _LineLoader, node: MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark)
        if key in data.key_lines:
            raise ConstructorError(
                None,
                None,
                f"duplicate key `{key}` (first given on line {data.key_lines[key]})",
                key_node.start_mark,
            )
        data.key_lines[key] = key_node.start_mark.line + 1
        data[key] = loader.construct_object(value_node, deep=True)
    return data


def _construct_sequence(loader: _LineLoader, node: SequenceNode) -> LineList:
    data = LineList(loader.construct_object(child, deep=True) for child in node.value)
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    return data


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Tens of thousands of new containers set off the cyclic collector again and again, making big
    files superlinear to load; what is built here holds no cycles, so the collector can wait."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _line(found: events.Event) -> int | None:
    return found.start_mark.line + 1 if found.start_mark else None


def _check_shape(text: str) -> None:
    """Refuse, before anything is built, a file whose nesting or aliases would make it expensive.

    An alias stands for a copy of what its anchor names, so a kilobyte of `&a [*b, *b, …]` can stand
    for billions of values ("billion laughs"), and every later step walks the copies. Sizes are
    counted from the parser's events alone, so even such a file is refused within milliseconds.
    """
    loader = _BaseLoader(text)
    anchored: dict[str, int] = {}
    # The open collections: their anchor and how many values had been counted when they opened.
    opened: list[tuple[str | None, int]] = []
    written = stood_for = 0
    try:
        while loader.check_event():
            found = loader.get_event()
            if isinstance(found, events.CollectionStartEvent):
                if len(opened) >= MAX_DEPTH:
                    raise ImportFileError.at(_line(found), f"nested deeper than {MAX_DEPTH} levels")
                opened.append((found.anchor, stood_for))
                written, stood_for = written + 1, stood_for + 1
            elif isinstance(found, events.CollectionEndEvent):
                anchor, before = opened.pop()
                if anchor is not None:
                    anchored[anchor] = stood_for - before
            elif isinstance(found, events.ScalarEvent):
                written, stood_for = written + 1, stood_for + 1
                if found.anchor is not None:
                    anchored[found.anchor] = 1
            elif isinstance(found, events.AliasEvent):
                written, stood_for = written + 1, stood_for + anchored.get(str(found.anchor), 1)
                if stood_for > max(MIN_EXPANDED, MAX_EXPANSION * written):
                    raise ImportFileError.at(
                        _line(found),
                        "its YAML aliases (*name) stand for far more values than the file writes out; "
                        "write the values out instead",
                    )
    finally:
        loader.dispose()


def load_documents(text: str) -> list[Any]:
    """Every non-empty document in `text`; invalid YAML is an ImportFileError naming the line."""
    try:
        _check_shape(text)
        with collector_paused():
            return [doc for doc in yaml.load_all(text, Loader=_LineLoader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.problem} ({exc.context})"
        raise ImportFileError.at(mark.line + 1 if mark else None, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ImportFileError.at(None, f"invalid YAML: {exc}") from None


def line_of(node: Any, default: int) -> int:
    return getattr(node, "line", 0) or default


def line_at(node: Any, loc: Sequence[Any], default: int) -> int:
    """The line of the deepest part of `loc` (a pydantic error location) found in `node`."""
    line = line_of(node, default)
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def problem(node: Any, message: str, default: int = 1) -> Problem:
    return Problem(line_of(node, default), message)
