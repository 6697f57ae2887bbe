"""Reading and writing the ownership directory as files: Switchboard YAML, Backstage, CODEOWNERS."""

from __future__ import annotations

import re
from pathlib import PurePath

from bot.ownership.importers import backstage, codeowners, switchboard_yaml
from bot.ownership.importers.model import (
    ImportFileError,
    ImportFormat,
    OwnerRef,
    ParsedArea,
    ParsedDirectory,
    Problem,
)
from bot.ownership.importers.owners import (
    EmailLookup,
    OwnerResolver,
    UnmappedOwner,
    load_handle_map,
    resolve_owners,
    slack_email_lookup,
)

__all__ = [
    "EmailLookup",
    "ImportFileError",
    "ImportFormat",
    "OwnerRef",
    "OwnerResolver",
    "ParsedArea",
    "ParsedDirectory",
    "Problem",
    "UnmappedOwner",
    "detect_format",
    "export_yaml",
    "load_handle_map",
    "parse",
    "resolve_owners",
    "slack_email_lookup",
]

_BACKSTAGE = re.compile(r"^apiVersion:\s*[\"']?backstage\.io/", re.MULTILINE)
_AREAS = re.compile(r"^areas\s*:", re.MULTILINE)
BACKSTAGE_FILENAMES = frozenset({"catalog-info.yaml", "catalog-info.yml"})

export_yaml = switchboard_yaml.export


def _looks_like_codeowners(text: str) -> bool:
    rules = 0
    for raw in text.lstrip("\ufeff").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or codeowners.is_section(line):
            continue
        owners = codeowners.tokens(line)[1:]
        if not all(codeowners.looks_like_owner(token) for token in owners):
            return False
        rules += bool(owners)
    return rules > 0


def detect_format(text: str, filename: str | None = None) -> ImportFormat:
    """The format of a directory file, from its name, else from its content."""
    name = PurePath(filename).name.lower() if filename else ""
    if name == "codeowners":
        return ImportFormat.CODEOWNERS
    if name in BACKSTAGE_FILENAMES or _BACKSTAGE.search(text):
        return ImportFormat.BACKSTAGE
    if _AREAS.search(text):
        return ImportFormat.YAML
    if _looks_like_codeowners(text):
        return ImportFormat.CODEOWNERS
    raise ImportFileError.at(
        None,
        "cannot tell the file's format: it has no top-level `areas:` list, no Backstage "
        "`apiVersion: backstage.io/…` and no CODEOWNERS `pattern @owner` lines; name the format "
        "(yaml, backstage or codeowners)",
    )


_PARSERS = {
    ImportFormat.YAML: switchboard_yaml.parse,
    ImportFormat.BACKSTAGE: backstage.parse,
    ImportFormat.CODEOWNERS: codeowners.parse,
}


def parse(text: str, *, format: ImportFormat | None = None, filename: str | None = None) -> ParsedDirectory:
    """Every area a file describes; a problem anywhere raises ImportFileError and yields nothing."""
    resolved = format or detect_format(text, filename)
    return _PARSERS[resolved](text)
