"""A launch's sign-off functions: templates, owner defaults from the ownership directory, and
adding, changing and re-statusing the rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.text import escape_mrkdwn
from bot.launches.schema import FunctionIn, FunctionPatch
from bot.ownership.cache import AreaIndexCache
from bot.ownership.index import AreaIndex, MatchKind, normalize
from models import Area
from models.base import utcnow
from models.launch import FunctionStatus, Launch, LaunchFunction

TEMPLATES: dict[str, tuple[str, ...]] = {
    "standard": (
        "Engineering",
        "QA",
        "Docs",
        "Marketing",
        "Sales enablement",
        "Support",
        "Legal",
        "Security",
        "Localization",
    ),
    "feature": ("Engineering", "QA", "Docs", "Support", "Marketing"),
    "internal": ("Engineering", "QA", "Docs", "Support"),
}
DEFAULT_TEMPLATE = "standard"
TEMPLATE_LABELS = {
    "standard": "Full launch (9 functions)",
    "feature": "Feature release (5 functions)",
    "internal": "Internal change (4 functions)",
}
# Other names a function goes by in an ownership directory.
FUNCTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "docs": ("documentation", "technical writing", "tech writing"),
    "documentation": ("docs",),
    "qa": ("quality assurance", "quality", "testing", "test"),
    "engineering": ("development", "dev", "r&d"),
    "sales enablement": ("sales", "enablement"),
    "support": ("customer support", "customer success", "help desk"),
    "legal": ("compliance", "legal and compliance"),
    "security": ("infosec", "information security", "appsec"),
    "localization": ("l10n", "translation", "i18n", "internationalization"),
    "marketing": ("product marketing", "pmm"),
}


@dataclass(frozen=True)
class OwnerGuess:
    owner: str | None
    area_slug: str | None


@dataclass(frozen=True)
class StatusChange:
    function: LaunchFunction
    changed: bool
    previous: str


def template_functions(template: str | None) -> tuple[str, ...]:
    name = (template or DEFAULT_TEMPLATE).strip().lower()
    if name not in TEMPLATES:
        raise UserError(f"Unknown function template `{template}`; use one of: {', '.join(TEMPLATES)}.")
    return TEMPLATES[name]


def _area_by_prefix(index: AreaIndex, name: str) -> int | None:
    """ "Docs" → "Documentation": a unique area whose name starts with the function's stem."""
    stem = normalize(name).rstrip("s")
    if len(stem) < 3:
        return None
    hits = {
        area.id for area in index.areas.values() if any(normalize(key).startswith(stem) for key in area.keys)
    }
    return hits.pop() if len(hits) == 1 else None


async def guess_owners(
    *, session: AsyncSession, cache: AreaIndexCache, team_id: str, names: list[str]
) -> dict[str, OwnerGuess]:
    """Owner of the ownership area matching each function name (exact, synonym, fuzzy, prefix)."""
    index = await cache.get(session=session, team_id=team_id)
    chosen: dict[str, int] = {}
    for name in names:
        key = normalize(name)
        for candidate in (name, *FUNCTION_SYNONYMS.get(key, ())):
            result = index.search(candidate, limit=1)
            if result.kind == MatchKind.CONFIDENT:
                chosen[name] = result.matches[0].area_id
                break
        else:
            area_id = _area_by_prefix(index, name)
            if area_id is not None:
                chosen[name] = area_id
    areas = {}
    if chosen:
        rows = await session.scalars(select(Area).where(Area.id.in_(set(chosen.values()))))
        areas = {area.id: area for area in rows}
    guesses: dict[str, OwnerGuess] = {}
    for name in names:
        area = areas.get(chosen.get(name, -1))
        guesses[name] = OwnerGuess(owner=area.owner, area_slug=area.slug) if area else OwnerGuess(None, None)
    return guesses


async def functions_of(*, session: AsyncSession, launch_id: int) -> list[LaunchFunction]:
    query = (
        select(LaunchFunction)
        .where(LaunchFunction.launch_id == launch_id)
        .order_by(LaunchFunction.position, LaunchFunction.id)
    )
    return list((await session.scalars(query)).all())


async def get_function(*, session: AsyncSession, team_id: str, function_id: int) -> LaunchFunction:
    found = await session.scalar(
        select(LaunchFunction).where(LaunchFunction.team_id == team_id, LaunchFunction.id == function_id)
    )
    if found is None:
        raise NotFound("That launch function no longer exists; it may have been removed from the launch.")
    return found


async def set_function_status(
    *,
    session: AsyncSession,
    function: LaunchFunction,
    status: str,
    by: str | None,
    note: str | None = None,
) -> StatusChange:
    """Change a function's status (and note); a repeat of the current values changes nothing.

    The conditional UPDATE is the arbiter between concurrent clicks on any backend: only the
    request that actually moved the row bumps its version, so side effects keyed by version
    happen once.
    """
    previous = function.status
    conditions = [LaunchFunction.status != status]
    values: dict[str, object] = {
        "status": status,
        "version": LaunchFunction.version + 1,
        "updated_by": by,
        "updated_at": utcnow(),
    }
    if note is not None:
        conditions = [(LaunchFunction.status != status) | (LaunchFunction.note != note)]
        values["note"] = note
    result = await session.execute(
        update(LaunchFunction)
        .where(LaunchFunction.id == function.id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    changed = bool(getattr(result, "rowcount", 0))
    await session.refresh(function)
    return StatusChange(function=function, changed=changed, previous=previous)


async def next_position(*, session: AsyncSession, launch_id: int) -> int:
    current = await session.scalar(
        select(func.max(LaunchFunction.position)).where(LaunchFunction.launch_id == launch_id)
    )
    return 0 if current is None else current + 1


async def add_function(
    *,
    session: AsyncSession,
    cache: AreaIndexCache,
    launch: Launch,
    data: FunctionIn,
    by: str | None,
) -> LaunchFunction:
    """Add a sign-off row; a name already on the launch is refused."""
    existing = await functions_of(session=session, launch_id=launch.id)
    if any(f.name.lower() == data.name.lower() for f in existing):
        raise UserError(
            f"*{escape_mrkdwn(launch.name)}* already has a function named `{escape_mrkdwn(data.name)}`."
        )
    guess = (await guess_owners(session=session, cache=cache, team_id=launch.team_id, names=[data.name]))[
        data.name
    ]
    function = LaunchFunction(
        team_id=launch.team_id,
        launch_id=launch.id,
        name=data.name,
        position=await next_position(session=session, launch_id=launch.id),
        owner=data.owner or guess.owner,
        area_slug=guess.area_slug,
        status=data.status,
        note=data.note,
        updated_by=by,
    )
    session.add(function)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise UserError(
            f"*{escape_mrkdwn(launch.name)}* already has a function named `{escape_mrkdwn(data.name)}`."
        ) from exc
    return function


async def update_function(
    *, session: AsyncSession, function: LaunchFunction, patch: FunctionPatch, by: str | None
) -> StatusChange:
    """Rename, reassign or re-status a function; status and note go through `set_function_status`."""
    changes = patch.model_dump(exclude_unset=True, mode="json")
    if "name" in changes and changes["name"].lower() != function.name.lower():
        siblings = await functions_of(session=session, launch_id=function.launch_id)
        if any(f.name.lower() == changes["name"].lower() for f in siblings if f.id != function.id):
            raise UserError(f"This launch already has a function named `{escape_mrkdwn(changes['name'])}`.")
    for key in ("name", "owner"):
        if key in changes:
            setattr(function, key, changes[key])
    await session.flush()
    status = changes.get("status", function.status)
    note = changes.get("note")
    if status != function.status or (note is not None and note != function.note):
        return await set_function_status(session=session, function=function, status=status, by=by, note=note)
    return StatusChange(function=function, changed=bool(changes), previous=function.status)


async def delete_function(*, session: AsyncSession, function: LaunchFunction) -> None:
    await session.delete(function)
    await session.flush()


def answerer_of(function: LaunchFunction, launch: Launch) -> str:
    """Who is asked for a function in standups: its owner, or the launch owner when it has none."""
    return function.owner or launch.owner


def standup_recipients(functions: list[LaunchFunction], launch: Launch) -> list[str]:
    """Everyone a standup of `launch` asks, once each."""
    return sorted({answerer_of(f, launch) for f in functions})


def pending_signoff(function: LaunchFunction) -> bool:
    return function.status != FunctionStatus.DONE
