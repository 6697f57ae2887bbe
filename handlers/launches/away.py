"""`/launch away <from> <to> [launch]` and `/launch back`: a person says when standups should leave
them alone. Only for themselves, in the workspace the command came from."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.core.text import escape_mrkdwn
from bot.core.uow import slack_unit_of_work
from bot.launches import away, calendar
from bot.launches import launches as launch_service
from bot.launches.people import people_of
from bot.slack.workspace import workspace_of
from models.base import utcnow


async def _today(session: Any, context: AsyncBoltContext, *, team_id: str, user_id: str) -> date:
    """Today for the person: in their timezone when Slack told us, else the default one."""
    person = (await people_of(session=session, team_id=team_id, user_ids=[user_id])).get(user_id)
    zone = (person.timezone if person else None) or context["settings"].switchboard_timezone
    try:
        return calendar.local_date(utcnow(), calendar.zone_of(zone))
    except calendar.CalendarError:
        return calendar.local_date(utcnow(), calendar.zone_of("UTC"))


async def away_answer(sub: str, rest: str, *, command: dict[str, Any], context: AsyncBoltContext) -> str:
    """The ephemeral answer to `/launch away …` or `/launch back`; bad input raises with the usage."""
    team_id, user_id = workspace_of(context), command["user_id"]
    async with slack_unit_of_work(context) as session:
        today = await _today(session, context, team_id=team_id, user_id=user_id)
        if sub == "back":
            ended = await away.end_away(session=session, team_id=team_id, user_id=user_id, today=today)
            if not ended:
                return "You were not marked away; standups ask you as usual."
            return ":wave: Welcome back: standups ask you again from their next prompt."
        request = away.parse_away(rest, today)
        launch = None
        if request.launch_query:
            launch = await launch_service.resolve_launch(
                session=session, team_id=team_id, query=request.launch_query
            )
        await away.set_away(
            session=session,
            team_id=team_id,
            user_id=user_id,
            starts_on=request.starts_on,
            ends_on=request.ends_on,
            launch=launch,
        )
    which = f"*{escape_mrkdwn(launch.name)}*" if launch else "every launch"
    return (
        f":palm_tree: You're away from {request.starts_on:%a %d %b %Y} to {request.ends_on:%a %d %b %Y} "
        f"for {which}: its standups neither ask nor remind you, and their summaries list you as away "
        f"until {request.ends_on:%a %d %b}. `/launch back` ends it early."
    )
