"""Who may do what: the one policy every Slack listener and admin route asks.

Each `may_*` function takes the person acting and the thing acted on and returns a `Verdict`;
`require` turns a refusal into the ephemeral (or modal error) that names who may do it. Nothing
here reads the database or Slack: the caller loads the row, and `Admins` answers whether someone
is a workspace admin (Slack's own admins and owners, plus `SWITCHBOARD_ADMINS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import UserError
from bot.core.text import and_list, escape_mrkdwn, user_mention

ADMINS = "a workspace admin"
# How long a users.info answer about someone's admin role is trusted.
ADMIN_CACHE_SECONDS = 60.0


class Refused(UserError):
    """A person asked for something the policy does not allow them; nothing was changed."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a Slack user (and whether they are a workspace admin), or an admin-API token."""

    user_id: str | None
    admin: bool = False

    @classmethod
    def api(cls) -> Actor:
        """An admin-API token acts as a workspace admin."""
        return cls(user_id=None, admin=True)

    def is_(self, user_id: str | None) -> bool:
        return user_id is not None and self.user_id == user_id


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    refusal: str = ""
    # Allowed, but the change waits for the approver before anything already posted changes.
    review: bool = False


ALLOWED = Verdict(allowed=True)


def require(verdict: Verdict) -> Verdict:
    if not verdict.allowed:
        raise Refused(verdict.refusal)
    return verdict


def _who(*people: str | None, admins: bool = True) -> str:
    named = [user_mention(p) for p in dict.fromkeys(p for p in people if p)]
    return and_list([*named, ADMINS] if admins else named) if named or admins else "nobody"


def _refuse(what: str, *people: str | None, admins: bool = True) -> Verdict:
    who = _who(*people, admins=admins)
    if who == "nobody":
        return Verdict(allowed=False, refusal=f"Nobody can {what} yet.")
    return Verdict(allowed=False, refusal=f"Only {who} can {what}.")


# ---- releases ---------------------------------------------------------------------------------


class ReleaseLike(Protocol):
    id: int
    owner: str | None
    approver: str | None
    status: str


# Statuses in which a change is a change to something already agreed on.
_AGREED = {"approved", "scheduled", "posting", "posted", "partially_posted", "failed"}


def may_edit_release(actor: Actor, release: ReleaseLike) -> Verdict:
    """A draft: its owner and admins. Once approved: also its approver; the owner's change goes
    back for approval (to the approver, who sees what changed) before posted messages are updated,
    while the approver's or an admin's own change keeps the approval."""
    if release.status == "cancelled":
        return Verdict(allowed=False, refusal=f"Release #{release.id} is cancelled; it can't be edited.")
    agreed = str(release.status) in _AGREED
    if actor.admin or (agreed and actor.is_(release.approver)):
        return ALLOWED
    if actor.is_(release.owner):
        return Verdict(allowed=True, review=agreed)
    people = (release.owner, release.approver) if agreed else (release.owner,)
    return _refuse(f"edit release #{release.id}", *people)


def may_submit_or_discard_release(actor: Actor, release: ReleaseLike) -> Verdict:
    """Send a draft for approval, or discard it: its owner, admins."""
    if actor.admin or actor.is_(release.owner):
        return ALLOWED
    return _refuse(f"send or discard release #{release.id}", release.owner)


def may_approve_release(actor: Actor, release: ReleaseLike) -> Verdict:
    """Approve or send back: its approver; admins only when no approver is set."""
    if release.approver is None:
        return ALLOWED if actor.admin else _refuse(f"approve release #{release.id}")
    if actor.is_(release.approver):
        return ALLOWED
    return _refuse(f"approve release #{release.id}", release.approver, admins=False)


def may_cancel_release(actor: Actor, release: ReleaseLike) -> Verdict:
    """Cancel or reschedule: its owner, its approver, admins."""
    if actor.admin or actor.is_(release.owner) or actor.is_(release.approver):
        return ALLOWED
    return _refuse(f"cancel or reschedule release #{release.id}", release.owner, release.approver)


def may_retry_release(actor: Actor, release: ReleaseLike) -> Verdict:
    """Try a release's failed channels again: its owner, its approver, admins."""
    if actor.admin or actor.is_(release.owner) or actor.is_(release.approver):
        return ALLOWED
    return _refuse(f"retry the failed channels of release #{release.id}", release.owner, release.approver)


# ---- launches ---------------------------------------------------------------------------------


class LaunchLike(Protocol):
    name: str
    owner: str


class FunctionLike(Protocol):
    name: str
    owner: str | None


def may_answer_function(actor: Actor, launch: LaunchLike, function: FunctionLike) -> Verdict:
    """Answer a standup for a function or add a note: the function's owner, the launch owner."""
    if actor.is_(function.owner) or actor.is_(launch.owner):
        return ALLOWED
    roles = [f"the launch owner {user_mention(launch.owner)}"]
    if function.owner and function.owner != launch.owner:
        roles.insert(0, f"its owner {user_mention(function.owner)}")
    return Verdict(
        allowed=False,
        refusal=f"Only {and_list(roles)} can answer for *{escape_mrkdwn(function.name)}* "
        f"in *{escape_mrkdwn(launch.name)}*.",
    )


def may_vote(actor: Actor, launch: LaunchLike, function_owners: Iterable[str | None]) -> Verdict:
    """Vote go/no-go: the function owners."""
    owners = [o for o in function_owners if o]
    if any(actor.is_(o) for o in owners):
        return ALLOWED
    if not owners:
        return Verdict(
            allowed=False,
            refusal=f"Nobody can vote on go/no-go for *{escape_mrkdwn(launch.name)}*: "
            "no function has an owner.",
        )
    return Verdict(
        allowed=False,
        refusal=f"Only the function owners of *{escape_mrkdwn(launch.name)}* vote on go/no-go: "
        f"{and_list([user_mention(o) for o in dict.fromkeys(owners)])}.",
    )


def may_run_launch(actor: Actor, launch: LaunchLike) -> Verdict:
    """Edit a launch, its functions and schedule; start a standup or a go/no-go: its owner, admins."""
    if actor.admin or actor.is_(launch.owner):
        return ALLOWED
    return Verdict(
        allowed=False,
        refusal=f"Only the launch owner {user_mention(launch.owner)} and {ADMINS} can change "
        f"*{escape_mrkdwn(launch.name)}* or start its standups and go/no-go votes.",
    )


# ---- ownership and feedback -------------------------------------------------------------------


class AreaLike(Protocol):
    name: str
    owner: str | None
    backups: list[str]


def may_answer_for_area(actor: Actor, area: AreaLike) -> Verdict:
    """Confirm, hand over, disown, edit or delete an area: its owner, its backups, admins."""
    if actor.admin or actor.is_(area.owner) or any(actor.is_(b) for b in area.backups or ()):
        return ALLOWED
    roles = [f"its owner {user_mention(area.owner)}"] if area.owner else []
    backups = [user_mention(b) for b in dict.fromkeys(area.backups or ()) if b != area.owner]
    if backups:
        roles.append(f"{'its backup' if len(backups) == 1 else 'its backups'} {and_list(backups)}")
    return Verdict(
        allowed=False,
        refusal=f"Only {and_list([*roles, ADMINS])} can confirm, hand over, disown, edit or delete "
        f"*{escape_mrkdwn(area.name)}*.",
    )


def may_claim_area(actor: Actor, area: AreaLike) -> Verdict:
    """Claim an area nobody answers for (its owner handed it back or left): as handing it over."""
    verdict = may_answer_for_area(actor, area)
    if verdict.allowed:
        return verdict
    backups = [user_mention(b) for b in dict.fromkeys(area.backups or ()) if b != area.owner]
    roles = [f"{'its backup' if len(backups) == 1 else 'its backups'} {and_list(backups)}"] if backups else []
    return Verdict(
        allowed=False, refusal=f"Only {and_list([*roles, ADMINS])} can claim *{escape_mrkdwn(area.name)}*."
    )


def may_move_theme(
    actor: Actor, theme_name: str, area: AreaLike | None, *, doing: str = "ship, merge or decline"
) -> Verdict:
    """Ship, merge, decline or keep open a theme from Slack: the owner of its area, admins."""
    owner = area.owner if area is not None else None
    if actor.admin or actor.is_(owner):
        return ALLOWED
    return _refuse(f"{doing} *{escape_mrkdwn(theme_name)}*", owner)


# ---- who is an admin --------------------------------------------------------------------------


class Admins:
    """Slack's own admins and owners (from `users.info`, remembered briefly) and the configured ids."""

    def __init__(
        self,
        configured: Iterable[str] = (),
        *,
        ttl: float = ADMIN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.configured = frozenset(u.strip() for u in configured if u.strip())
        self.ttl = ttl
        self.clock = clock
        self._seen: dict[tuple[str, str], tuple[float, bool]] = {}

    async def is_admin(self, client: AsyncWebClient, *, team_id: str, user_id: str) -> bool:
        if user_id in self.configured:
            return True
        key = (team_id, user_id)
        now = self.clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.ttl:
            return seen[1]
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError:
            # Not remembered: a Slack blip must not make an admin a member for a whole minute.
            return False
        user: dict[str, Any] = response.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key] = (now, admin)
        return admin

    async def actor(self, client: AsyncWebClient, *, team_id: str, user_id: str) -> Actor:
        return Actor(user_id=user_id, admin=await self.is_admin(client, team_id=team_id, user_id=user_id))
