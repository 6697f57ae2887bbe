"""Backstage `catalog-info.yaml`: every entity document becomes an area.

Kinds map to area kinds: Component → `service` (spec.type `feature` → `feature`, `documentation`
→ `doc`), System and Domain → `product_area`, API and Resource → `service`, Group → `team`, any
other kind → `other`. User, Location and Template entities are not areas; a User's
`spec.profile.email` is used to find the Slack user behind `user:` owner references.

Fields: `metadata.name` (prefixed by a non-default namespace) → slug, `metadata.title` (a Group's
`spec.profile.displayName`) or the name → name, `metadata.description`, `metadata.tags`,
`metadata.links[].url/title`. `spec.owner` (`user:default/jane`, `group:payments`, or a bare name,
which Backstage reads as a group) → owner through the handle map; a group owner also fills the
area's `team`. A Group entity is owned by whoever its own reference maps to.
Entities of different kinds sharing a name get `-<kind>` after the later one's slug.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.ownership.importers.model import (
    ImportFileError,
    ImportFormat,
    OwnerRef,
    ParsedArea,
    ParsedDirectory,
    Problem,
)
from bot.ownership.importers.validation import area_values, validate_area
from bot.ownership.importers.yaml_lines import LineDict, line_at, load_documents
from bot.ownership.schema import SLUG_RE, slugify
from models.area import AreaKind

AREA_KINDS = {
    "system": AreaKind.PRODUCT_AREA,
    "domain": AreaKind.PRODUCT_AREA,
    "api": AreaKind.SERVICE,
    "resource": AreaKind.SERVICE,
    "group": AreaKind.TEAM,
}
COMPONENT_TYPES = {
    "feature": AreaKind.FEATURE,
    "documentation": AreaKind.DOC,
    "docs": AreaKind.DOC,
}
NOT_AREAS = frozenset({"user", "location", "template"})
DEFAULT_NAMESPACE = "default"
# Backstage reads a bare `spec.owner` as a group.
DEFAULT_OWNER_KIND = "group"
_ENTITY_REF = re.compile(r"^(?:(?P<kind>[^:/]+):)?(?:(?P<namespace>[^:/]+)/)?(?P<name>[^:/]+)$")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_entity_ref(ref: str, *, namespace: str) -> tuple[str, str, str] | None:
    """`[kind:][namespace/]name` as lowercase (kind, namespace, name), with Backstage's defaults."""
    match = _ENTITY_REF.match(ref.strip())
    if not match:
        return None
    kind = (match["kind"] or DEFAULT_OWNER_KIND).lower()
    return kind, (match["namespace"] or namespace).lower(), match["name"].lower()


def owner_ref(ref: str, *, namespace: str, line: int, users: dict[tuple[str, str], str]) -> OwnerRef | None:
    """`user:default/jane` as handle-map keys (most specific first) and, for users, their email."""
    parsed = parse_entity_ref(ref, namespace=namespace)
    if parsed is None:
        return None
    kind, ns, name = parsed
    keys = [ref.strip().lower(), f"{kind}:{ns}/{name}"]
    if ns == DEFAULT_NAMESPACE:
        keys.append(f"{kind}:{name}")
    keys.append(name)
    email = users.get((ns, name)) if kind == "user" else None
    return OwnerRef(handle=ref.strip(), line=line, keys=tuple(dict.fromkeys(keys)), email=email)


def _user_emails(documents: list[Any]) -> dict[tuple[str, str], str]:
    emails: dict[tuple[str, str], str] = {}
    for doc in documents:
        if not isinstance(doc, LineDict) or str(doc.get("kind", "")).lower() != "user":
            continue
        metadata, spec = doc.get("metadata"), doc.get("spec")
        profile = spec.get("profile") if isinstance(spec, dict) else None
        email = _text(profile.get("email")) if isinstance(profile, dict) else None
        if isinstance(metadata, dict) and _text(metadata.get("name")) and email:
            ns = (_text(metadata.get("namespace")) or DEFAULT_NAMESPACE).lower()
            emails[(ns, str(metadata["name"]).strip().lower())] = email
    return emails


def _group_names(documents: list[Any]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for doc in documents:
        if isinstance(doc, LineDict) and str(doc.get("kind", "")).lower() == "group":
            metadata = doc.get("metadata")
            if isinstance(metadata, dict) and _text(metadata.get("name")):
                ns = (_text(metadata.get("namespace")) or DEFAULT_NAMESPACE).lower()
                names[(ns, str(metadata["name"]).strip().lower())] = _display_name(doc)
    return names


def _display_name(doc: LineDict) -> str:
    metadata, spec = doc["metadata"], doc.get("spec")
    profile = spec.get("profile") if isinstance(spec, dict) else None
    display = _text(profile.get("displayName")) if isinstance(profile, dict) else None
    return _text(metadata.get("title")) or display or str(metadata["name"]).strip()


def _area_kind(kind: str, spec: Any) -> AreaKind:
    if kind == "component":
        component_type = str(spec.get("type", "")).strip().lower() if isinstance(spec, dict) else ""
        return COMPONENT_TYPES.get(component_type, AreaKind.SERVICE)
    return AREA_KINDS.get(kind, AreaKind.OTHER)


def _shape_problem(doc: Any) -> str | None:
    if not isinstance(doc, LineDict):
        return "a catalog entity must be a mapping with apiVersion, kind and metadata"
    if not _text(doc.get("kind")):
        return "entity has no `kind`"
    metadata = doc.get("metadata")
    if not isinstance(metadata, LineDict) or not _text(metadata.get("name")):
        return "entity has no `metadata.name`"
    if "spec" in doc and doc["spec"] is not None and not isinstance(doc["spec"], LineDict):
        return "`spec` must be a mapping"
    return None


def _links(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    # Backstage links also carry `icon` and `type`, which areas have no use for.
    return [
        {key: link[key] or "" for key in ("url", "title") if key in link} if isinstance(link, dict) else link
        for link in value
    ]


class _Locator:
    """Finds the line of an area field in the entity it came from."""

    def __init__(self, doc: LineDict, name_key: tuple[str, ...]) -> None:
        self.doc = doc
        self.sources: dict[str, tuple[str, ...]] = {
            "slug": ("metadata", "name"),
            "name": name_key,
            "description": ("metadata", "description"),
            "tags": ("metadata", "tags"),
            "links": ("metadata", "links"),
            "owner": ("spec", "owner"),
            "team": ("spec", "owner"),
        }

    def __call__(self, loc: Sequence[Any]) -> int:
        if not loc or str(loc[0]) not in self.sources:
            return self.doc.line
        return line_at(self.doc, [*self.sources[str(loc[0])], *loc[1:]], self.doc.line)


def parse(text: str) -> ParsedDirectory:
    """Areas from every entity in a (multi-document) catalog file; any bad entity rejects the file."""
    documents = load_documents(text)
    users = _user_emails(documents)
    groups = _group_names(documents)
    problems: list[Problem] = []
    areas: list[ParsedArea] = []
    taken: dict[str, tuple[str, str, int]] = {}
    for doc in documents:
        shape = _shape_problem(doc)
        if shape:
            problems.append(Problem(getattr(doc, "line", 1) or 1, shape))
            continue
        kind = str(doc["kind"]).strip().lower()
        if kind in NOT_AREAS:
            continue
        parsed, errors = _entity_area(doc, kind, users=users, groups=groups)
        problems.extend(errors)
        if parsed is None:
            continue
        ref = f"{kind}:{parsed.slug}"
        if parsed.slug in taken:
            other_kind, other_ref, other_line = taken[parsed.slug]
            if other_kind == kind or f"{parsed.slug}-{kind}" in taken:
                problems.append(
                    Problem(doc.line, f"entity `{ref}` clashes with `{other_ref}` on line {other_line}")
                )
                continue
            parsed.slug = f"{parsed.slug}-{kind}"
        taken[parsed.slug] = (kind, ref, doc.line)
        areas.append(parsed)
    if problems:
        raise ImportFileError(problems)
    return ParsedDirectory(format=ImportFormat.BACKSTAGE, areas=areas)


def _slug(metadata: LineDict) -> str:
    name = str(metadata["name"]).strip()
    namespace = (_text(metadata.get("namespace")) or DEFAULT_NAMESPACE).lower()
    base = name if namespace == DEFAULT_NAMESPACE else f"{namespace}-{name}"
    return base if re.match(SLUG_RE, base) else slugify(base)


def _spec_owner(
    doc: LineDict,
    spec: Any,
    *,
    namespace: str,
    users: dict[tuple[str, str], str],
    groups: dict[tuple[str, str], str],
) -> tuple[OwnerRef | None, str | None, Problem | None]:
    """`spec.owner` as an owner reference, and the team it names when it is a group."""
    written = spec.get("owner") if isinstance(spec, dict) else None
    if written is None:
        return None, None, None
    line = spec.key_lines.get("owner", doc.line) if isinstance(spec, LineDict) else doc.line
    ref = owner_ref(str(written), namespace=namespace, line=line, users=users) if _text(written) else None
    if ref is None:
        message = f"`spec.owner` {written!r} is not an entity reference such as user:default/jane"
        return None, None, Problem(line, message)
    owner_kind, ns, name = parse_entity_ref(str(written), namespace=namespace) or ("", "", "")
    if owner_kind != "group":
        return ref, None, None
    return ref, groups.get((ns, name), str(written).rsplit("/", 1)[-1].rsplit(":", 1)[-1]), None


def _entity_area(
    doc: LineDict, kind: str, *, users: dict[tuple[str, str], str], groups: dict[tuple[str, str], str]
) -> tuple[ParsedArea | None, list[Problem]]:
    metadata: LineDict = doc["metadata"]
    spec = doc.get("spec") or LineDict()
    namespace = (_text(metadata.get("namespace")) or DEFAULT_NAMESPACE).lower()
    raw: dict[str, Any] = {
        "slug": _slug(metadata),
        "name": _display_name(doc),
        "kind": _area_kind(kind, spec),
    }
    for field in ("description", "tags"):
        if field in metadata:
            raw[field] = metadata[field]
    if "links" in metadata:
        raw["links"] = _links(metadata["links"])

    if kind == "group":
        ref = owner_ref(
            f"group:{namespace}/{metadata['name']}", namespace=namespace, line=doc.line, users=users
        )
        raw["team"] = raw["name"]
    else:
        ref, team, problem = _spec_owner(doc, spec, namespace=namespace, users=users, groups=groups)
        if problem:
            return None, [problem]
        if team:
            raw["team"] = team

    name_key = ("metadata", "title") if "title" in metadata else ("metadata", "name")
    area, problems = validate_area(raw, locate=_Locator(doc, name_key))
    if area is None:
        return None, problems
    return ParsedArea(line=doc.line, slug=area.resolved_slug(), values=area_values(area), owner_ref=ref), []
