"""Ownership DMs that could not be delivered ("Still yours?", its reminder, "You now own…"): the
ownership channel (else the area's own channel) hears which owner could not be reached and why.

When Slack said the owner is gone (`user_not_found`, `account_inactive`, …), the areas are flagged
as they are when a check finds the account gone, so that nobody asks the owner again every day.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.posting import post_once
from bot.ownership.confirmation import find_area, lock_area_owned_by
from bot.ownership.views.announcements import owner_unreachable
from bot.scheduler.jobs import enqueue
from bot.scheduler.registry import JobContext, Undelivered, job_handler
from bot.slack.blocks import as_dicts
from bot.slack.errors import PERSON_GONE, describe
from models import Area, OwnerStatus

log = logging.getLogger(__name__)

UNREACHABLE_KIND = "ownership.owner_unreachable"


def _area_ids(payload: dict[str, Any]) -> list[int]:
    return [int(i) for i in payload.get("area_ids") or [payload["area_id"]]]


async def _flag_gone(failed: Undelivered, owner: str, areas: list[Area]) -> str | None:
    """Mark the owner's areas as having a missing or deactivated owner; the status given, if any."""
    if failed.transient or failed.error not in PERSON_GONE:
        return None
    unknown = failed.error in ("user_not_found", "users_not_found")
    status = OwnerStatus.MISSING if unknown else OwnerStatus.DEACTIVATED
    flagged = False
    for area in areas:
        locked = await lock_area_owned_by(
            session=failed.session, team_id=area.team_id, area_id=area.id, owner=owner
        )
        if locked is not None and locked.owner_status != status:
            locked.owner_status = status
            locked.confirm_requested_at = None
            flagged = True
    return str(status) if flagged else None


async def owner_unreachable_hook(failed: Undelivered) -> None:
    """An ownership DM failed for good: queue one message saying whom it could not reach."""
    job, payload = failed.job, failed.job.payload
    owner = str(payload["owner"])
    found = [
        await find_area(session=failed.session, team_id=job.team_id, area_id=area_id)
        for area_id in _area_ids(payload)
    ]
    areas = [area for area in found if area is not None]
    listed = [(area.name, area.slug) for area in areas]
    if not listed and payload.get("name"):
        listed = [(str(payload["name"]), str(payload.get("slug") or ""))]
    channel = failed.settings.ownership_channel or next((a.channel for a in areas if a.channel), None)
    if not channel:
        log.warning("could not reach %s (%s) and no channel to say so in", owner, failed.error)
        return
    flagged = await _flag_gone(failed, owner, areas)
    await enqueue(
        session=failed.session,
        team_id=job.team_id,
        kind=UNREACHABLE_KIND,
        key=f"{job.kind}:{job.dedupe_key}",
        payload={
            "channel": channel,
            "purpose": job.kind.rpartition(".")[2],
            "owner": owner,
            "areas": listed,
            "error": failed.error,
            "flagged": flagged,
            "by": payload.get("by"),
        },
    )


@job_handler(UNREACHABLE_KIND, delivery=True)
async def report_owner_unreachable(ctx: JobContext) -> dict[str, Any]:
    """Say in the ownership channel which owner could not be reached, and what to do about it."""
    payload = ctx.job.payload
    error = str(payload["error"])
    text, blocks = owner_unreachable(
        purpose=str(payload["purpose"]),
        owner=str(payload["owner"]),
        areas=[(str(name), str(slug)) for name, slug in payload["areas"]],
        reason=describe(
            error, audience="person", window_hours=ctx.settings.switchboard_delivery_window_hours
        ),
        error=error,
        flagged=payload.get("flagged"),
        by=payload.get("by"),
    )
    return await post_once(
        await ctx.client(),
        channel=str(payload["channel"]),
        key=f"job:{ctx.job.id}",
        text=text,
        blocks=as_dicts(blocks),
        maybe_posted=ctx.job.attempts > 1,
    )
