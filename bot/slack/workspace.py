"""The workspace a Slack request acts in (the one Bolt authorized it for, never a payload field)
and the person acting in it.

A signed payload can name several teams (`team.id`, `user.team_id`, `view.team_id`, `event.team`)
and in shared channels or Enterprise Grid they differ. Rows are read and written only for the
workspace whose token answered the request, so every listener asks `workspace_of`.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncBoltContext

from bot.core.errors import UserError
from bot.core.permissions import Actor


def workspace_of(context: AsyncBoltContext) -> str:
    """The authorized workspace id (its enterprise id for an org-wide install with no team)."""
    result = context.authorize_result
    workspace = (
        (result.team_id if result is not None else None)
        or context.team_id
        or (result.enterprise_id if result is not None else None)
        or context.enterprise_id
    )
    if not workspace:
        raise UserError("This request names no workspace Switchboard is installed in.")
    return str(workspace)


async def actor_of(context: AsyncBoltContext, user_id: str) -> Actor:
    """The person acting on this request, with whether they are an admin of its workspace."""
    admins = context["runtime"].admins
    actor: Actor = await admins.actor(context.client, team_id=workspace_of(context), user_id=user_id)
    return actor
