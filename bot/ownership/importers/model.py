"""What every importer produces: areas to upsert, owner handles still to resolve, and line-numbered errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.errors import UserError

# Enough to fix a file in one pass without burying the first problem.
MAX_REPORTED_PROBLEMS = 20


class ImportFormat(StrEnum):
    YAML = "yaml"
    BACKSTAGE = "backstage"
    CODEOWNERS = "codeowners"


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportFileError(UserError):
    """A file that cannot be imported; nothing from it is written."""

    def __init__(self, problems: list[Problem], *, source: str | None = None) -> None:
        self.problems = problems[:MAX_REPORTED_PROBLEMS]
        self.source = source
        text = "; ".join(str(p) for p in self.problems)
        if len(problems) > MAX_REPORTED_PROBLEMS:
            text += f"; and {len(problems) - MAX_REPORTED_PROBLEMS} more problems"
        super().__init__(f"{source}: {text}" if source else text)

    @classmethod
    def at(cls, line: int | None, message: str, *, source: str | None = None) -> ImportFileError:
        return cls([Problem(line, message)], source=source)

    def with_source(self, source: str) -> ImportFileError:
        return ImportFileError(self.problems, source=source)


@dataclass(frozen=True)
class OwnerRef:
    """An owner as the file names it, before it is matched to a Slack user."""

    handle: str
    line: int
    # Keys tried in the handle map, most specific first (`group:default/web`, `group:web`, `web`).
    keys: tuple[str, ...]
    email: str | None = None


@dataclass
class ParsedArea:
    """One area from a file: the fields the file sets, plus owners still to resolve."""

    line: int
    slug: str
    # Validated values (JSON-shaped) the file sets; fields absent here are left as they are on update.
    values: dict[str, Any]
    # Values used only when the area is new (a sensible kind or description for a bare path).
    create_defaults: dict[str, Any] = field(default_factory=dict)
    # Owners named by handle (Backstage, CODEOWNERS); None leaves the stored value alone.
    owner_ref: OwnerRef | None = None
    backup_refs: list[OwnerRef] | None = None


@dataclass
class ParsedDirectory:
    format: ImportFormat
    areas: list[ParsedArea]
