"""Block Kit for go/no-go: the vote message in the launch channel and the result announcement."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.core.text import and_list, escape_mrkdwn, plural, truncate, user_mention
from bot.launches.gonogo import Tally
from bot.launches.launches import Matrix
from bot.launches.readiness import READY_SCORE, days_to_launch_label
from bot.launches.views.matrix import LaunchId
from bot.slack.blocks import context, plain, section
from models.launch import DecisionStatus, FunctionStatus, Vote


def _voter_line(tally: Tally, voter: str) -> str:
    vote = tally.votes.get(voter)
    if vote is None:
        return f":hourglass_flowing_sand: {user_mention(voter)} — waiting"
    mark, label = (":white_check_mark:", "Go") if vote.vote == Vote.GO else (":no_entry:", "No-go")
    reason = f": {escape_mrkdwn(truncate(vote.reason, 300))}" if vote.reason else ""
    return f"{mark} {user_mention(voter)} — *{label}*{reason}"


def readiness_gap(matrix: Matrix) -> str | None:
    """ "Readiness is 45/100: Engineering and QA are not done", below the ready score; else None."""
    if matrix.score >= READY_SCORE:
        return None
    open_names = [escape_mrkdwn(f.name) for f in matrix.functions if f.status != FunctionStatus.DONE]
    if not open_names:
        return f"Readiness is {matrix.score}/100: no function has signed off"
    verb = "is" if len(open_names) == 1 else "are"
    return f"Readiness is {matrix.score}/100: {and_list(open_names)} {verb} not done"


def result_line(tally: Tally, matrix: Matrix) -> str:
    """The result; under the ready score it also says which functions are not done."""
    decision = tally.decision
    voters = len(decision.voters)
    name = escape_mrkdwn(tally.launch.name)
    gap = readiness_gap(matrix)
    if decision.result == Vote.GO:
        who = "the function owner" if voters == 1 else f"all {plural(voters, 'function owner')}"
        if gap is None:
            return f":rocket: *Result: Go* — {who} said Go. *{name}* is ready."
        return (
            f":rocket: *Result: Go* — {who} said Go, but the sign-off matrix disagrees. "
            f":warning: {gap}. *{name}* is marked ready with that gap; "
            f"`/launch status {tally.launch.slug}` shows the matrix."
        )
    against = [v for v in decision.voters if v in tally.votes and tally.votes[v].vote == Vote.NO_GO]
    line = (
        f":no_entry: *Result: No-go* — {len(against)} of {voters} said No-go "
        f"({', '.join(user_mention(v) for v in against)}). *{name}* is at risk."
    )
    return line if gap is None else f"{line} {gap}."


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
    ]
    gap = readiness_gap(matrix)
    if gap is not None and decision.status == DecisionStatus.OPEN:
        blocks.append(section(f":warning: {gap}. A Go now means launching with them open."))
    blocks.append(section("\n".join(_voter_line(tally, voter) for voter in decision.voters)))
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
        blocks.append(section(result_line(tally, matrix)))
    return blocks


def vote_text(tally: Tally, matrix: Matrix) -> str:
    name = escape_mrkdwn(tally.launch.name)
    text = f"Go/no-go for {name}: {len(tally.votes)} of {len(tally.decision.voters)} voted"
    gap = readiness_gap(matrix)
    return text if gap is None else f"{text}. {gap}."


def result_text(tally: Tally, matrix: Matrix) -> str:
    return result_line(tally, matrix)
