"""CODEOWNERS (GitHub and GitLab): every pattern line becomes an area named after its path.

The slug comes from the path (`/apps/billing/` → `apps-billing`, `*` → `all-files`); the name says
the path in words with the pattern after it (`src/checkout` → "Checkout (src/checkout)", `*.tf` →
"Terraform files (*.tf)"), and the pattern as written is kept as an alias. Owners are `@user`,
`@org/team` or email addresses; the first is the area's owner, the rest its backups. A pattern
listed twice keeps its last line, as GitHub does; different patterns that slugify alike get `-2`,
`-3`. GitLab `[Section] @owners` headers give their owners to the section's lines that name none.
New areas are of kind `service`.
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


# What a file extension's files are called, for patterns such as `*.tf`; others read `XYZ files`.
EXTENSION_NAMES = {
    "tf": "Terraform",
    "tfvars": "Terraform variables",
    "py": "Python",
    "js": "JavaScript",
    "jsx": "JavaScript",
    "ts": "TypeScript",
    "tsx": "TypeScript",
    "go": "Go",
    "rb": "Ruby",
    "rs": "Rust",
    "java": "Java",
    "kt": "Kotlin",
    "swift": "Swift",
    "cs": "C#",
    "md": "Markdown",
    "sql": "SQL",
    "sh": "Shell",
    "yml": "YAML",
    "yaml": "YAML",
    "json": "JSON",
    "proto": "Protobuf",
    "css": "CSS",
    "scss": "Sass",
    "html": "HTML",
}
_EXTENSION = re.compile(r"^\*+\.([A-Za-z0-9]+)$")
NAME_LENGTH = 200


def _words(segment: str) -> str:
    """`payments_api` → `Payments api`; a file name (`README.md`) stays as it is."""
    if "." in segment.strip("."):
        return segment
    text = re.sub(r"[-_\s]+", " ", segment).strip()
    return text[:1].upper() + text[1:]


def name_for(pattern: str) -> str:
    """The area's name: the path in words, then the pattern (`src/checkout` → `Checkout (src/checkout)`)."""
    segments = [part for part in pattern.strip("/").split("/") if re.search(r"[A-Za-z0-9]", part)]
    if not segments:
        words = "All files"
    else:
        extension = _EXTENSION.match(segments[-1])
        places = [part for part in segments if not _EXTENSION.match(part)]
        place = _words(re.sub(r"\*+", "", places[-1]).strip(".")) if places else ""
        if len(place) <= 3 and len(places) >= 2:
            # `docs/api` reads better as "Docs api" than as "Api".
            place = f"{_words(places[-2])} {place.lower()}".strip()
        if extension:
            kind = EXTENSION_NAMES.get(extension[1].lower(), extension[1].upper())
            words = f"{kind} files in {place}" if place else f"{kind} files"
        else:
            words = place
    if not words or words == pattern:
        return pattern[:NAME_LENGTH]
    return f"{words} ({pattern})"[:NAME_LENGTH]


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
    area, problems = validate_area({"name": name_for(pattern)}, locate=lambda _loc: number)
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
                "aliases": [pattern],
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
