"""The workspace a Slack request acts in: the one Bolt authorized it for, never a payload field.

A signed payload can name several teams (`team.id`, `user.team_id`, `view.team_id`, `event.team`)
and in shared channels or Enterprise Grid they differ. Rows are read and written only for the
workspace whose token answered the request, so every listener asks `workspace_of`.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncBoltContext

from bot.core.errors import UserError


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
