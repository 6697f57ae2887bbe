"""An imported directory file applied to the database: upsert by slug per workspace, all or nothing.

Everything that can fail on the file (parsing, validation, matching owners to Slack users) happens
before the first query, so a bad file writes nothing and no transaction waits on Slack. An area
whose values already match is not touched: re-importing a file bumps neither `updated_at` nor the
directory version.

Owner changes on existing areas join the announcement window's one summary in OWNERSHIP_CHANNEL.
New areas do too, unless the import creates more than MAX_ANNOUNCED_NEW_AREAS owned areas: then one
summary of its own names the new owners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import Conflict
from bot.core.settings import Settings
from bot.ownership import importers
from bot.ownership.announcements import announce_bulk_import, announce_owner_changes, owner_change
from bot.ownership.areas import bump_directory_version, mark_confirmed
from bot.ownership.importers import (
    EmailLookup,
    ImportFormat,
    OwnerResolver,
    ParsedArea,
    ParsedDirectory,
    UnmappedOwner,
    resolve_owners,
    slack_email_lookup,
)
from bot.ownership.importers.validation import NEW_AREA_DEFAULTS
from models import Area, DirectoryVersion, Installation
from models.base import utcnow

if TYPE_CHECKING:
    from bot.core.runtime import Runtime


MAX_ANNOUNCED_NEW_AREAS = 25


@dataclass
class ImportResult:
    format: ImportFormat
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unmapped_owners: list[UnmappedOwner] = field(default_factory=list)
    dry_run: bool = False
    announced: int = 0
    # New owned areas left unannounced because the import was a bulk load.
    unannounced_new: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "dry_run": self.dry_run,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "announced": self.announced,
            "unannounced_new_areas": self.unannounced_new,
            "created_slugs": self.created,
            "updated_slugs": self.updated,
            "unmapped_owners": [owner.as_dict() for owner in self.unmapped_owners],
        }


async def import_directory(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    directory: ParsedDirectory,
    handle_map: dict[str, str] | None = None,
    lookup_email: EmailLookup | None = None,
    dry_run: bool = False,
    by: str | None = None,
) -> ImportResult:
    """Match a parsed file's owners to Slack users, then upsert its areas in the caller's transaction.

    Parse with `importers.parse` first, so that a bad file fails before anything else is asked.
    """
    resolver = OwnerResolver(handle_map or {}, lookup_email)
    areas, unmapped = await resolve_owners(directory, resolver)
    result = await apply_areas(
        session=session,
        settings=settings,
        team_id=team_id,
        areas=areas,
        source=directory.format,
        dry_run=dry_run,
        by=by,
    )
    result.unmapped_owners = unmapped
    return result


async def apply_areas(
    *,
    session: AsyncSession,
    settings: Settings,
    team_id: str,
    areas: list[ParsedArea],
    source: ImportFormat,
    dry_run: bool = False,
    by: str | None = None,
) -> ImportResult:
    """Create or update each area by slug; owner changes are announced; a dry run only counts."""
    result = ImportResult(format=source, dry_run=dry_run)
    existing = {
        area.slug: area for area in (await session.scalars(select(Area).where(Area.team_id == team_id))).all()
    }
    owner_changes: list[tuple[Area, str | None]] = []
    new_owned: list[Area] = []
    for parsed in areas:
        area = existing.get(parsed.slug)
        if area is None:
            result.created.append(parsed.slug)
            if not dry_run:
                area = _new_area(team_id=team_id, parsed=parsed, source=source)
                session.add(area)
                if area.owner:
                    new_owned.append(area)
            continue
        changes = {key: value for key, value in parsed.values.items() if getattr(area, key) != value}
        if not changes:
            result.unchanged.append(parsed.slug)
            continue
        result.updated.append(parsed.slug)
        if dry_run:
            continue
        previous_owner = area.owner
        for key, value in changes.items():
            setattr(area, key, value)
        # A new owner counts as a fresh confirmation; a cleared owner leaves nobody to announce.
        if "owner" in changes and area.owner is not None:
            mark_confirmed(area)
            owner_changes.append((area, previous_owner))
    if dry_run or not (result.created or result.updated):
        return result
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "The directory changed while importing (another import?); run the import again."
        ) from exc
    if len(new_owned) <= MAX_ANNOUNCED_NEW_AREAS:
        owner_changes.extend((area, None) for area in new_owned)
    else:
        result.unannounced_new = len(new_owned)
        await announce_bulk_import(
            session=session,
            settings=settings,
            team_id=team_id,
            areas=new_owned,
            source=source.value,
            by=by,
        )
    result.announced += await announce_owner_changes(
        session=session,
        settings=settings,
        team_id=team_id,
        changes=[
            owner_change(area=area, previous_owner=previous_owner, by=by)
            for area, previous_owner in owner_changes
            if area.owner != previous_owner
        ],
    )
    await bump_directory_version(session=session, team_id=team_id)
    return result


def _new_area(*, team_id: str, parsed: ParsedArea, source: ImportFormat) -> Area:
    values = {**NEW_AREA_DEFAULTS, **parsed.create_defaults, **parsed.values}
    area = Area(team_id=team_id, slug=parsed.slug, source=source.value, **values)
    if area.owner:
        area.last_confirmed_at = utcnow()
    return area


async def export_directory(*, session: AsyncSession, team_id: str) -> tuple[str, int]:
    """The workspace's directory as Switchboard YAML, and how many areas it holds."""
    areas = list((await session.scalars(select(Area).where(Area.team_id == team_id))).all())
    return importers.export_yaml(areas), len(areas)


async def known_team_ids(*, session: AsyncSession, limit: int = 10) -> list[str]:
    """Workspaces the database knows of (areas, directory versions, OAuth installations)."""
    query = union(
        select(Area.team_id),
        select(DirectoryVersion.team_id),
        select(Installation.team_id).where(Installation.team_id != ""),
    ).limit(limit)
    return sorted(str(team) for team in (await session.scalars(select(query.subquery().c[0]))).all())


async def email_lookup_for(runtime: Runtime, team_id: str) -> EmailLookup | None:
    """Slack's `users.lookupByEmail` with the workspace's bot token; None when there is no token."""
    if runtime.settings.oauth_mode:
        try:
            return slack_email_lookup(await runtime.client_for_team(team_id))
        except LookupError:
            return None
    return slack_email_lookup(runtime.web_client(runtime.bot_token)) if runtime.bot_token else None
