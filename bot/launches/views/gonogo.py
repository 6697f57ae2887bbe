"""Block Kit for go/no-go: the vote message in the launch channel and the result announcement."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.core.text import escape_mrkdwn, plural, truncate, user_mention
from bot.launches.gonogo import Tally
from bot.launches.launches import Matrix
from bot.launches.readiness import days_to_launch_label
from bot.launches.views.matrix import LaunchId
from bot.slack.blocks import context, plain, section
from models.launch import DecisionStatus, Vote


def _voter_line(tally: Tally, voter: str) -> str:
    vote = tally.votes.get(voter)
    if vote is None:
        return f":hourglass_flowing_sand: {user_mention(voter)} — waiting"
    mark, label = (":white_check_mark:", "Go") if vote.vote == Vote.GO else (":no_entry:", "No-go")
    reason = f": {escape_mrkdwn(truncate(vote.reason, 300))}" if vote.reason else ""
    return f"{mark} {user_mention(voter)} — *{label}*{reason}"


def result_line(tally: Tally) -> str:
    decision = tally.decision
    voters = len(decision.voters)
    if decision.result == Vote.GO:
        return (
            f":rocket: *Result: Go* — all {voters} function owners said Go. "
            f"*{escape_mrkdwn(tally.launch.name)}* is ready."
        )
    against = [v for v in decision.voters if v in tally.votes and tally.votes[v].vote == Vote.NO_GO]
    return (
        f":no_entry: *Result: No-go* — {len(against)} of {voters} said No-go "
        f"({', '.join(user_mention(v) for v in against)}). *{escape_mrkdwn(tally.launch.name)}* is at risk."
    )


def vote_blocks(tally: Tally, matrix: Matrix) -> list[Block]:
    """The vote message: readiness, each owner's vote and reason, and Go / No-go buttons while open."""
    launch = tally.launch
    decision = tally.decision
    blocks: list[Block] = [
        section(
            f":vertical_traffic_light: *Go/no-go for {escape_mrkdwn(launch.name)}* "
            f"(round {decision.round}) · target {launch.target_date:%a %d %b} · "
            f"{days_to_launch_label(matrix.days_to_launch)} · readiness {matrix.score}/100"
        ),
        section("\n".join(_voter_line(tally, voter) for voter in decision.voters)),
    ]
    if decision.status == DecisionStatus.OPEN:
        blocks.append(
            ActionsBlock(
                block_id=f"{LaunchId.VOTE}:{decision.id}",
                elements=[
                    ButtonElement(
                        text=plain("Go"),
                        action_id=f"{LaunchId.VOTE}:{Vote.GO}",
                        value=str(decision.id),
                        style="primary",
                    ),
                    ButtonElement(
                        text=plain("No-go"),
                        action_id=f"{LaunchId.VOTE}:{Vote.NO_GO}",
                        value=str(decision.id),
                        style="danger",
                    ),
                ],
            )
        )
        blocks.append(
            context(
                f"Only function owners vote, each with a reason. {plural(len(tally.waiting), 'vote')} to go."
            )
        )
    else:
        blocks.append(section(result_line(tally)))
    return blocks


def vote_text(tally: Tally) -> str:
    return f"Go/no-go for {tally.launch.name}: {len(tally.votes)} of {len(tally.decision.voters)} voted"


def result_text(tally: Tally) -> str:
    return result_line(tally)
