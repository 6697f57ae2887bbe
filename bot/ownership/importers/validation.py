"""Area fields checked with the same schema as the API and Slack modals, errors pinned to file lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.ownership.importers.model import Problem
from bot.ownership.schema import AreaIn

AREA_FIELDS = tuple(name for name in AreaIn.model_fields if name != "slug")
LIST_FIELDS = frozenset({"aliases", "backups", "links", "tags"})

# What a new area gets for every field the file leaves out.
NEW_AREA_DEFAULTS: dict[str, Any] = {
    "aliases": [],
    "kind": AreaIn.model_fields["kind"].default.value,
    "description": "",
    "owner": None,
    "team": None,
    "backups": [],
    "channel": None,
    "links": [],
    "tags": [],
    "confirm_every_days": AreaIn.model_fields["confirm_every_days"].default,
}

_PATTERN_HINTS = {
    "slug": "must be lowercase letters, digits and dashes, starting with a letter or digit (at most 80)",
    "owner": "must be a Slack user id such as U012AB3CD",
    "backups": "must be a Slack user id such as U012AB3CD",
    "channel": "must be a Slack channel id such as C012AB3CD",
}


def _path(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(error: ErrorDetails) -> str:
    """A pydantic error as a person fixing the file needs it."""
    loc = error["loc"]
    path = _path(loc)
    if error["type"] == "extra_forbidden":
        return f"unknown field `{path}`; known fields: slug, {', '.join(AREA_FIELDS)}"
    if error["type"] == "missing":
        return f"`{path}` is required"
    if error["type"] == "string_pattern_mismatch" and loc and str(loc[0]) in _PATTERN_HINTS:
        return f"{path}: {str(error['input'])[:80]!r} {_PATTERN_HINTS[str(loc[0])]}"
    return f"{path}: {error['msg']}" if path else str(error["msg"])


def validate_area(
    raw: Mapping[str, Any], *, locate: Callable[[Sequence[Any]], int]
) -> tuple[AreaIn | None, list[Problem]]:
    """`raw` as an AreaIn, or the problems with it, each at the line `locate` gives for its field."""
    try:
        return AreaIn.model_validate(dict(raw)), []
    except ValidationError as exc:
        return None, [Problem(locate(e["loc"]), describe(e)) for e in exc.errors()]


def area_values(area: AreaIn) -> dict[str, Any]:
    """The fields the source set explicitly, JSON-shaped as the `areas` table stores them."""
    values = area.model_dump(mode="json", include=area.model_fields_set - {"slug"})
    for key, value in values.items():
        if value is None and key in LIST_FIELDS:
            values[key] = []
        elif value is None and key == "description":
            values[key] = ""
    if "links" in values:
        values["links"] = [{"title": link.get("title", ""), "url": link["url"]} for link in values["links"]]
    return values
