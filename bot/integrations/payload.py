"""Reading webhook JSON defensively: every shape error is a MalformedPayload naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Names, keys, tags and actions; far above anything a tracker sends.
MAX_NAME_LENGTH = 1_000
# GitHub caps release notes at 125,000 characters and pull request bodies at 65,536, Jira version
# descriptions at 16 KB: longer text did not come from a tracker.
MAX_TEXT_LENGTH = 131_072


class MalformedPayload(ValueError):
    """A verified webhook body that does not have the documented shape."""


@dataclass(frozen=True)
class Node:
    """A JSON object and where it sits in the payload, so that errors can say which field is wrong."""

    value: dict[str, Any]
    path: str

    def child(self, key: str) -> Node:
        """The object under `key`; it must be present."""
        found = self.optional_child(key)
        if found is None:
            raise MalformedPayload(f"{self._at(key)}: expected an object, got nothing")
        return found

    def optional_child(self, key: str) -> Node | None:
        """The object under `key`, or None when it is absent or null."""
        value = self.value.get(key)
        return None if value is None else as_node(value, path=self._at(key))

    def children(self, key: str) -> list[Node]:
        """The objects of the list under `key`; an absent or null list is empty."""
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedPayload(f"{self._at(key)}: expected a list, got {_kind(value)}")
        return [as_node(item, path=f"{self._at(key)}[{index}]") for index, item in enumerate(value)]

    def text(self, key: str, *, limit: int = MAX_NAME_LENGTH) -> str:
        """The string under `key`; it must be present."""
        found = self.optional_text(key, limit=limit)
        if found is None:
            raise MalformedPayload(f"{self._at(key)}: expected a string, got nothing")
        return found

    def optional_text(self, key: str, *, limit: int = MAX_NAME_LENGTH) -> str | None:
        """The string under `key`, or None when it is absent or null."""
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise MalformedPayload(f"{self._at(key)}: expected a string, got {_kind(value)}")
        if len(value) > limit:
            raise MalformedPayload(f"{self._at(key)}: longer than {limit} characters")
        # PostgreSQL text cannot hold NUL, and no tracker puts one in a name or a body.
        if "\x00" in value:
            raise MalformedPayload(f"{self._at(key)}: contains a NUL character")
        return value

    def integer(self, key: str) -> int:
        """The integer under `key`; it must be present (a JSON true is not 1)."""
        value = self.value.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise MalformedPayload(f"{self._at(key)}: expected an integer, got {_kind(value)}")
        return value

    def boolean(self, key: str) -> bool:
        """The boolean under `key`; it must be present."""
        value = self.value.get(key)
        if not isinstance(value, bool):
            raise MalformedPayload(f"{self._at(key)}: expected true or false, got {_kind(value)}")
        return value

    def has(self, key: str) -> bool:
        return key in self.value

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


def as_node(value: object, *, path: str = "") -> Node:
    """`value` as an object node; MalformedPayload when it is a list, a string or anything else."""
    if not isinstance(value, dict):
        raise MalformedPayload(f"{path or 'payload'}: expected an object, got {_kind(value)}")
    return Node(value=value, path=path)


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}
    return names.get(type(value), "an object" if isinstance(value, dict) else type(value).__name__)
