"""CODEOWNERS (GitHub and GitLab): every pattern line becomes an area named after its path.

The slug comes from the path (`/apps/billing/` → `apps-billing`, `*` → `all-files`), the name is the
pattern as written. Owners are `@user`, `@org/team` or email addresses; the first is the area's
owner, the rest its backups. A pattern listed twice keeps its last line, as GitHub does; different
patterns that slugify alike get `-2`, `-3`. GitLab `[Section] @owners` headers give their owners to
the section's lines that name none. New areas are of kind `service`.
"""

from __future__ import annotations

import re

from bot.ownership.importers.model import (
    ImportFileError,
    ImportFormat,
    OwnerRef,
    ParsedArea,
    ParsedDirectory,
    Problem,
)
from bot.ownership.importers.validation import area_values, validate_area
from bot.ownership.schema import slugify
from models.area import AreaKind

_TOKEN = re.compile(r"(?:\\.|\S)+")
_SECTION = re.compile(r"^\^?\[[^\]]+\](?:\[\d+\])?(?P<owners>\s.*)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9._-]*)(?:/[A-Za-z0-9._-]+)*$")
CATCH_ALL_SLUG = "all-files"


def tokens(line: str) -> list[str]:
    """Whitespace-separated tokens up to an inline comment; `\\ ` keeps a space inside a pattern."""
    found: list[str] = []
    for token in _TOKEN.findall(line):
        if token.startswith("#"):
            break
        found.append(token)
    return found


def looks_like_owner(token: str) -> bool:
    return bool(_HANDLE.match(token) or _EMAIL.match(token))


def is_section(line: str) -> bool:
    return bool(_SECTION.match(line.strip()))


def owner_ref(token: str, line: int) -> OwnerRef:
    if token.startswith("@"):
        return OwnerRef(handle=token, line=line, keys=(token[1:].lower(),))
    return OwnerRef(handle=token, line=line, keys=(token.lower(),), email=token)


def slug_for(pattern: str) -> str:
    stripped = pattern.strip("/")
    if not re.search(r"[A-Za-z0-9]", stripped):
        return CATCH_ALL_SLUG
    return slugify(stripped)


def _alias(pattern: str) -> list[str]:
    last = [part for part in re.split(r"[/*]+", pattern) if part and re.search(r"[A-Za-z0-9]", part)]
    return [last[-1]] if last and last[-1] != pattern else []


def parse(text: str) -> ParsedDirectory:
    """Areas from CODEOWNERS lines; a line that is not `pattern owner…` rejects the whole file."""
    problems: list[Problem] = []
    by_pattern: dict[str, ParsedArea] = {}
    section_owners: list[str] = []
    for number, raw_line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        section = _SECTION.match(line)
        if section:
            section_owners = tokens(section["owners"] or "")
            bad = [t for t in section_owners if not looks_like_owner(t)]
            if bad:
                problems.append(Problem(number, _not_an_owner(bad[0])))
            continue
        parts = tokens(line)
        if not parts:
            continue
        pattern = parts[0].replace("\\ ", " ").replace("\\#", "#")
        owners = parts[1:] or section_owners
        bad = [t for t in owners if not looks_like_owner(t)]
        if bad:
            problems.append(Problem(number, _not_an_owner(bad[0])))
            continue
        parsed, errors = _area(pattern, owners, number)
        problems.extend(errors)
        if parsed is not None:
            # A later line for the same pattern overrides the earlier one, as in GitHub.
            by_pattern.pop(pattern, None)
            by_pattern[pattern] = parsed
    if problems:
        raise ImportFileError(problems)
    return ParsedDirectory(format=ImportFormat.CODEOWNERS, areas=_unique_slugs(list(by_pattern.values())))


def _not_an_owner(token: str) -> str:
    return f"`{token}` is not an owner; expected @user, @org/team or an email address"


def _area(pattern: str, owners: list[str], number: int) -> tuple[ParsedArea | None, list[Problem]]:
    area, problems = validate_area({"name": pattern}, locate=lambda _loc: number)
    if area is None:
        return None, problems
    refs = [owner_ref(token, number) for token in dict.fromkeys(owners)]
    return (
        ParsedArea(
            line=number,
            slug=slug_for(pattern),
            values=area_values(area),
            create_defaults={
                "kind": AreaKind.SERVICE.value,
                "description": f"Code owners of `{pattern}`.",
                "aliases": _alias(pattern),
            },
            owner_ref=refs[0] if refs else None,
            backup_refs=refs[1:],
        ),
        [],
    )


def _unique_slugs(areas: list[ParsedArea]) -> list[ParsedArea]:
    areas.sort(key=lambda a: a.line)
    used: set[str] = set()
    for area in areas:
        slug, counter = area.slug, 2
        while slug in used:
            slug = f"{area.slug}-{counter}"[:80]
            counter += 1
        area.slug = slug
        used.add(slug)
    return areas
