"""Go/no-go: a vote of every function owner of a launch, with the result recorded and announced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.text import escape_mrkdwn
from bot.launches import calendar
from bot.launches.functions import functions_of
from bot.launches.launches import LIVE_STATUSES
from bot.scheduler.jobs import enqueue
from models.base import utcnow
from models.launch import (
    DecisionStatus,
    GoNoGoDecision,
    GoNoGoVote,
    Launch,
    LaunchStatus,
    RunTrigger,
    Vote,
)

POST_KIND = "launch.gonogo_post"
RESULT_KIND = "launch.gonogo_result"
# An automatic vote is only opened while its launch is still ahead.
AUTO_VOTE_STATUSES = (LaunchStatus.PLANNING, LaunchStatus.AT_RISK)


@dataclass(frozen=True)
class VoteOutcome:
    decision: GoNoGoDecision
    launch: Launch
    changed: bool
    decided_now: bool


@dataclass(frozen=True)
class Tally:
    decision: GoNoGoDecision
    launch: Launch
    votes: dict[str, GoNoGoVote]

    @property
    def waiting(self) -> list[str]:
        return [voter for voter in self.decision.voters if voter not in self.votes]

    @property
    def go_count(self) -> int:
        return sum(1 for v in self.votes.values() if v.vote == Vote.GO)


async def open_decision(*, session: AsyncSession, launch_id: int) -> GoNoGoDecision | None:
    return await session.scalar(
        select(GoNoGoDecision)
        .where(GoNoGoDecision.launch_id == launch_id, GoNoGoDecision.status == DecisionStatus.OPEN)
        .order_by(GoNoGoDecision.round.desc())
        .limit(1)
    )


async def open_vote(
    *, session: AsyncSession, launch: Launch, by: str | None, trigger: str = RunTrigger.MANUAL
) -> GoNoGoDecision:
    """Start a go/no-go vote of every function owner and queue its message for the launch channel."""
    if launch.status in (LaunchStatus.LAUNCHED, LaunchStatus.CANCELLED):
        raise UserError(
            f"*{escape_mrkdwn(launch.name)}* is {launch.status}; there is nothing left to decide."
        )
    if await open_decision(session=session, launch_id=launch.id) is not None:
        raise UserError(
            f"A go/no-go vote for *{escape_mrkdwn(launch.name)}* is already open; "
            "its message is in the launch channel."
        )
    voters = sorted({f.owner for f in await functions_of(session=session, launch_id=launch.id) if f.owner})
    if not voters:
        raise UserError(
            f"No function of *{escape_mrkdwn(launch.name)}* has an owner yet, so nobody can vote."
        )
    last_round = await session.scalar(
        select(func.max(GoNoGoDecision.round)).where(GoNoGoDecision.launch_id == launch.id)
    )
    decision = GoNoGoDecision(
        team_id=launch.team_id,
        launch_id=launch.id,
        round=(last_round or 0) + 1,
        trigger=trigger,
        voters=voters,
        channel=launch.channel,
        opened_by=by,
    )
    try:
        async with session.begin_nested():
            session.add(decision)
            await session.flush()
    except IntegrityError as exc:
        # Another process opened this round a moment ago.
        raise UserError(f"A go/no-go vote for *{escape_mrkdwn(launch.name)}* was just opened.") from exc
    await enqueue(
        session=session,
        team_id=launch.team_id,
        kind=POST_KIND,
        key=str(decision.id),
        payload={"decision_id": decision.id},
    )
    return decision


def auto_vote_due(launch: Launch, now: datetime) -> bool:
    """True from `gonogo_days_before` days before the target date (local) until the target date."""
    if launch.gonogo_days_before is None or launch.status not in AUTO_VOTE_STATUSES:
        return False
    days = calendar.days_until(launch.target_date, now, calendar.zone_of(launch.timezone))
    return 0 <= days <= launch.gonogo_days_before


async def open_automatic_vote(
    *, session: AsyncSession, launch: Launch, now: datetime
) -> GoNoGoDecision | None:
    """The scheduled vote, opened once per launch (never when a vote already happened)."""
    if not auto_vote_due(launch, now):
        return None
    held = await session.scalar(
        select(GoNoGoDecision.id).where(GoNoGoDecision.launch_id == launch.id).limit(1)
    )
    if held is not None:
        return None
    try:
        return await open_vote(session=session, launch=launch, by=None, trigger=RunTrigger.SCHEDULE)
    except UserError:
        return None


async def get_decision(*, session: AsyncSession, team_id: str, decision_id: int) -> GoNoGoDecision:
    decision = await session.scalar(
        select(GoNoGoDecision).where(GoNoGoDecision.team_id == team_id, GoNoGoDecision.id == decision_id)
    )
    if decision is None:
        raise NotFound("That go/no-go vote no longer exists.")
    return decision


def check_open(decision: GoNoGoDecision, launch: Launch) -> None:
    if decision.status != DecisionStatus.OPEN:
        result = "Go" if decision.result == Vote.GO else "No-go"
        raise UserError(
            f"The go/no-go vote for *{escape_mrkdwn(launch.name)}* is closed: the result was *{result}*."
        )


async def record_vote(
    *, session: AsyncSession, team_id: str, decision_id: int, voter: str, vote: Vote, reason: str
) -> VoteOutcome:
    """Store (or change) a vote; the last missing vote decides: all Go → the launch is ready.

    The caller has asked the policy (`may_vote`) whether `voter` may vote.
    """
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    launch = await session.get(Launch, decision.launch_id)
    assert launch is not None
    check_open(decision, launch)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    excluded = insert(GoNoGoVote).excluded
    result = await session.execute(
        insert(GoNoGoVote)
        .values(
            team_id=team_id, decision_id=decision.id, voter=voter, vote=vote, reason=reason, voted_at=utcnow()
        )
        .on_conflict_do_update(
            index_elements=[GoNoGoVote.decision_id, GoNoGoVote.voter],
            set_={"vote": excluded.vote, "reason": excluded.reason, "voted_at": excluded.voted_at},
            where=(GoNoGoVote.vote != excluded.vote) | (GoNoGoVote.reason != excluded.reason),
        )
    )
    changed = bool(getattr(result, "rowcount", 0))
    decided_now = await _decide_if_complete(session=session, decision=decision, launch=launch)
    return VoteOutcome(decision=decision, launch=launch, changed=changed, decided_now=decided_now)


async def _decide_if_complete(*, session: AsyncSession, decision: GoNoGoDecision, launch: Launch) -> bool:
    votes = await votes_of(session=session, decision_id=decision.id)
    if any(voter not in votes for voter in decision.voters):
        return False
    result = Vote.GO if all(votes[v].vote == Vote.GO for v in decision.voters) else Vote.NO_GO
    # Conditional: of two last votes landing together, one records the result.
    moved = await session.execute(
        update(GoNoGoDecision)
        .where(GoNoGoDecision.id == decision.id, GoNoGoDecision.status == DecisionStatus.OPEN)
        .values(status=DecisionStatus.DECIDED, result=result, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(decision)
    if not getattr(moved, "rowcount", 0):
        return False
    if launch.status in LIVE_STATUSES:
        launch.status = LaunchStatus.READY if result == Vote.GO else LaunchStatus.AT_RISK
    await enqueue(
        session=session,
        team_id=decision.team_id,
        kind=RESULT_KIND,
        key=str(decision.id),
        payload={"decision_id": decision.id},
    )
    return True


async def votes_of(*, session: AsyncSession, decision_id: int) -> dict[str, GoNoGoVote]:
    rows = await session.scalars(select(GoNoGoVote).where(GoNoGoVote.decision_id == decision_id))
    return {vote.voter: vote for vote in rows}


async def tally(*, session: AsyncSession, decision: GoNoGoDecision) -> Tally:
    launch = await session.get(Launch, decision.launch_id)
    assert launch is not None
    return Tally(
        decision=decision, launch=launch, votes=await votes_of(session=session, decision_id=decision.id)
    )


async def record_message(*, session: AsyncSession, decision_id: int, channel: str, ts: str) -> None:
    decision = await session.get(GoNoGoDecision, decision_id)
    if decision is not None:
        decision.channel, decision.message_ts = channel, ts


async def decisions_of(*, session: AsyncSession, launch_id: int) -> list[GoNoGoDecision]:
    rows = await session.scalars(
        select(GoNoGoDecision).where(GoNoGoDecision.launch_id == launch_id).order_by(GoNoGoDecision.round)
    )
    return list(rows)
