"""Switchboard's own directory file: one YAML document with an `areas:` list.

An area mapping takes the fields of the admin API (slug, name, aliases, kind, description, owner,
team, backups, channel, links, tags, confirm_every_days); owners are Slack user ids. A field left
out of a mapping keeps its current value when the area exists; `null` or `[]` clears it. Export
writes every field, so an exported file restores the directory exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import yaml

from bot.ownership.importers.model import ImportFileError, ImportFormat, ParsedArea, ParsedDirectory, Problem
from bot.ownership.importers.validation import area_values, validate_area
from bot.ownership.importers.yaml_lines import (
    LineDict,
    LineList,
    collector_paused,
    line_at,
    line_of,
    load_documents,
)
from models import Area

EXPORT_FIELDS = (
    "slug",
    "name",
    "kind",
    "owner",
    "backups",
    "team",
    "channel",
    "aliases",
    "description",
    "links",
    "tags",
    "confirm_every_days",
)
HEADER = "# Switchboard ownership directory. Import with `switchboard owners import FILE`.\n"


def parse(text: str) -> ParsedDirectory:
    """Areas from a Switchboard YAML file; any problem anywhere rejects the whole file."""
    documents = load_documents(text)
    if not documents:
        raise ImportFileError.at(1, "the file is empty; expected an `areas:` list")
    if len(documents) != 1:
        raise ImportFileError.at(
            line_of(documents[1], 1),
            "expected one YAML document with an `areas:` list",
        )
    root = documents[0]
    if not isinstance(root, LineDict) or "areas" not in root:
        raise ImportFileError.at(line_of(root, 1), "expected a mapping with an `areas:` list at the top")
    unknown = [key for key in root if key != "areas"]
    if unknown:
        raise ImportFileError.at(root.key_lines[unknown[0]], f"unknown top-level key `{unknown[0]}`")
    items = root["areas"]
    if items is None:
        return ParsedDirectory(format=ImportFormat.YAML, areas=[])
    if not isinstance(items, LineList):
        raise ImportFileError.at(root.key_lines["areas"], "`areas` must be a list of areas")
    return ParsedDirectory(format=ImportFormat.YAML, areas=_parse_items(items))


def _parse_items(items: LineList) -> list[ParsedArea]:
    problems: list[Problem] = []
    parsed: list[ParsedArea] = []
    first_line: dict[str, int] = {}
    for item, item_line in zip(items, items.item_lines, strict=True):
        if not isinstance(item, LineDict):
            problems.append(Problem(item_line, "each area must be a mapping with at least a `name`"))
            continue
        area, errors = validate_area(item, locate=partial(line_at, item, default=item_line))
        problems.extend(errors)
        if area is None:
            continue
        slug = area.resolved_slug()
        if slug in first_line:
            problems.append(
                Problem(item_line, f"slug `{slug}` is already used by the area on line {first_line[slug]}")
            )
            continue
        first_line[slug] = item_line
        parsed.append(ParsedArea(line=item_line, slug=slug, values=area_values(area)))
    if problems:
        raise ImportFileError(problems)
    return parsed


# libyaml's emitter: a 10,000-area directory in about a second instead of half a minute.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _ExportDumper(_BaseDumper):  # type: ignore[valid-type,misc]
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line descriptions stay readable; PyYAML falls back to quoting when a block can't hold them.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExportDumper.add_representer(str, _represent_str)


def area_document(area: Area) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slug": area.slug,
        "name": area.name,
        "kind": area.kind,
        "owner": area.owner,
        "backups": list(area.backups or []),
        "team": area.team,
        "channel": area.channel,
        "aliases": list(area.aliases or []),
        "description": area.description or "",
        "links": [{"title": link.get("title", ""), "url": link["url"]} for link in area.links or []],
        "tags": list(area.tags or []),
        "confirm_every_days": area.confirm_every_days,
    }
    return {key: values[key] for key in EXPORT_FIELDS}


def export(areas: Iterable[Area]) -> str:
    """The directory as Switchboard YAML, areas by slug, fields in a fixed order."""
    documents = [area_document(area) for area in sorted(areas, key=lambda a: a.slug)]
    with collector_paused():
        body = yaml.dump(
            {"areas": documents},
            Dumper=_ExportDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    return HEADER + body
