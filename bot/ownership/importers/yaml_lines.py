"""YAML loading that remembers where every mapping key and list item starts, for line-numbered errors."""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, SequenceNode

from bot.ownership.importers.model import ImportFileError, Problem


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


def load_documents(text: str) -> list[Any]:
    """Every non-empty document in `text`; invalid YAML is an ImportFileError naming the line."""
    try:
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
