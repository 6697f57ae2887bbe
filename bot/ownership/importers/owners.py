"""Owner handles from imported files, matched to Slack users.

A handle map file is YAML `handle: U012AB3CD` (`jane`, `@jane`, `@acme/web`, `user:default/jane`,
`jane@example.com`; case and a leading `@` do not matter). An owner is looked up in the map first
(every key the importer offers, most specific first), then taken as is when it already is a Slack
user id, then, when it is an email address, asked of Slack with `users.lookupByEmail`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.ownership.importers.model import ImportFileError, OwnerRef, ParsedArea, ParsedDirectory, Problem
from bot.ownership.importers.yaml_lines import LineDict, line_of, load_documents
from bot.ownership.schema import USER_RE

# (Slack user id, or None and why not)
EmailLookup = Callable[[str], Awaitable[tuple[str | None, str]]]

NOT_IN_MAP = "not in the handle map"
NO_SLACK = "email not looked up: no Slack bot token configured"
NOT_IN_SLACK = "no Slack user has this email address"
DEACTIVATED = "the Slack user with this email address is deactivated"


def normalize_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def load_handle_map(text: str) -> dict[str, str]:
    """`handle → Slack user id` from a YAML mapping; a bad entry is an error naming its line."""
    documents = load_documents(text)
    if not documents:
        return {}
    root = documents[0]
    if len(documents) > 1 or not isinstance(root, LineDict):
        raise ImportFileError.at(line_of(root, 1), "a handle map is one YAML mapping of `handle: U012AB3CD`")
    handles: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in root.items():
        line = root.key_lines[key]
        if not isinstance(value, str) or not re.match(USER_RE, value.strip()):
            problems.append(Problem(line, f"`{key}` must map to a Slack user id such as U012AB3CD"))
            continue
        handles[normalize_handle(str(key))] = value.strip()
    if problems:
        raise ImportFileError(problems)
    return handles


def slack_email_lookup(client: AsyncWebClient) -> EmailLookup:
    """Look emails up with `users.lookupByEmail`; Slack errors other than "not found" stop the import."""

    async def lookup(email: str) -> tuple[str | None, str]:
        try:
            answer = await client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "error"))
            if error in {"users_not_found", "user_not_found"}:
                return None, NOT_IN_SLACK
            hint = " (the app needs the users:read.email scope)" if error == "missing_scope" else ""
            raise UserError(f"Slack refused users.lookupByEmail for {email}: {error}{hint}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UserError(f"Could not reach Slack to look up {email}: {exc}; try again") from None
        user = answer.get("user") or {}
        if user.get("deleted"):
            return None, DEACTIVATED
        return str(user["id"]), ""

    return lookup


@dataclass
class UnmappedOwner:
    """An owner the import could not match to a Slack user, and where the file names it."""

    handle: str
    reason: str
    areas: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"handle": self.handle, "reason": self.reason, "areas": self.areas, "lines": self.lines}


class OwnerResolver:
    """Matches owner references to Slack users, asking Slack at most once per email."""

    def __init__(self, handle_map: dict[str, str], lookup_email: EmailLookup | None) -> None:
        self.handle_map = handle_map
        self.lookup_email = lookup_email
        self._emails: dict[str, tuple[str | None, str]] = {}

    async def resolve(self, ref: OwnerRef) -> tuple[str | None, str]:
        for key in ref.keys:
            if key in self.handle_map:
                return self.handle_map[key], ""
        bare = ref.handle.strip().lstrip("@")
        if re.match(USER_RE, bare):
            return bare, ""
        if ref.email is None:
            return None, NOT_IN_MAP
        if self.lookup_email is None:
            return None, NO_SLACK
        email = ref.email.lower()
        if email not in self._emails:
            self._emails[email] = await self.lookup_email(email)
        return self._emails[email]


async def resolve_owners(
    directory: ParsedDirectory, resolver: OwnerResolver
) -> tuple[list[ParsedArea], list[UnmappedOwner]]:
    """Areas with owner handles replaced by Slack user ids, and the owners that matched no one.

    An unmatched first owner leaves the area's owner as it is (none on a new area) rather than
    promoting a backup; unmatched backups are left out of `backups`.
    """
    unmapped: dict[str, UnmappedOwner] = {}

    async def user_id(ref: OwnerRef, slug: str) -> str | None:
        found, reason = await resolver.resolve(ref)
        if found is None:
            entry = unmapped.setdefault(ref.handle.lower(), UnmappedOwner(handle=ref.handle, reason=reason))
            if slug not in entry.areas:
                entry.areas.append(slug)
            if ref.line not in entry.lines:
                entry.lines.append(ref.line)
        return found

    for area in directory.areas:
        owner = await user_id(area.owner_ref, area.slug) if area.owner_ref else None
        if owner is not None:
            area.values["owner"] = owner
        if area.backup_refs is not None:
            backups = [await user_id(ref, area.slug) for ref in area.backup_refs]
            area.values["backups"] = list(dict.fromkeys(b for b in backups if b and b != owner))
    return directory.areas, sorted(unmapped.values(), key=lambda u: (u.lines[0], u.handle.lower()))
