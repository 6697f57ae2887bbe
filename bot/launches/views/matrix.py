"""Block Kit for launches: ids, the sign-off matrix, the launch list, standup summaries, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from bot.core.text import channel_mention, escape_mrkdwn, plural, truncate, user_mention
from bot.launches import calendar
from bot.launches.launches import Matrix
from bot.launches.readiness import days_to_launch_label, trend
from bot.launches.standups import schedule_of
from bot.launches.summaries import LateAnswer, Summary
from bot.slack.blocks import context, plain, section, slack_date
from models.launch import FunctionStatus, Launch, LaunchFunction, LaunchStatus


class LaunchId(StrEnum):
    COMMAND = "/launch"
    NEW_SHORTCUT = "new_launch"
    CREATE_MODAL = "launch_create"
    OWNERS_MODAL = "launch_create_owners"
    NAME_BLOCK = "launch_name"
    NAME = "name"
    TARGET_BLOCK = "launch_target"
    TARGET = "target_date"
    CHANNEL_BLOCK = "launch_channel"
    CHANNEL = "channel"
    OWNER_BLOCK = "launch_owner"
    OWNER = "owner"
    TEMPLATE_BLOCK = "launch_template"
    TEMPLATE = "template"
    FUNCTIONS_BLOCK = "launch_functions"
    FUNCTIONS = "functions"
    DAYS_BLOCK = "launch_days"
    DAYS = "days"
    TIME_BLOCK = "launch_time"
    TIME = "time"
    TIMEZONE_BLOCK = "launch_timezone"
    TIMEZONE = "timezone"
    COUNTRY_BLOCK = "launch_country"
    COUNTRY = "country"
    FUNCTION_OWNER_BLOCK = "launch_fn_owner"
    FUNCTION_OWNER = "function_owner"
    STATUS = "launch_status"
    NOTE = "launch_note"
    NOTE_MODAL = "launch_note_modal"
    NOTE_BLOCK = "launch_note_text"
    NOTE_INPUT = "note"
    FUNCTION_BLOCK = "launch_fn"
    VOTE = "launch_vote"
    VOTE_MODAL = "launch_vote_modal"
    REASON_BLOCK = "launch_vote_reason"
    REASON = "reason"
    ALERT_BLOCK = "launch_alert"
    OPEN_STATUS = "launch_open_status"
    MESSAGE_OWNER = "launch_message_owner"


STATUS_LOOK: dict[str, tuple[str, str]] = {
    FunctionStatus.NOT_STARTED: (":white_circle:", "Not started"),
    FunctionStatus.ON_TRACK: (":large_green_circle:", "On track"),
    FunctionStatus.AT_RISK: (":large_yellow_circle:", "At risk"),
    FunctionStatus.BLOCKED: (":red_circle:", "Blocked"),
    FunctionStatus.DONE: (":white_check_mark:", "Done"),
}
LAUNCH_LOOK: dict[str, tuple[str, str]] = {
    LaunchStatus.PLANNING: (":spiral_note_pad:", "Planning"),
    LaunchStatus.AT_RISK: (":warning:", "At risk"),
    LaunchStatus.READY: (":rocket:", "Ready"),
    LaunchStatus.LAUNCHED: (":tada:", "Launched"),
    LaunchStatus.CANCELLED: (":no_entry_sign:", "Cancelled"),
}
# The answers a standup DM offers, in button order.
ANSWERS = (FunctionStatus.ON_TRACK, FunctionStatus.AT_RISK, FunctionStatus.BLOCKED, FunctionStatus.DONE)
FUNCTIONS_PER_SECTION = 8

USAGE = (
    "*/launch* tracks launch readiness:\n"
    "• `/launch new` — create a launch (also the *New launch* shortcut)\n"
    "• `/launch list` — live launches with their readiness\n"
    "• `/launch status <launch>` — the sign-off matrix, score and trend\n"
    "• `/launch standup <launch>` — run a readiness standup now\n"
    "• `/launch gonogo <launch>` — ask every function owner for Go / No-go\n"
    "• `/launch away <from> <to> [launch]` — standups leave you alone then (dates as YYYY-MM-DD)\n"
    "• `/launch back` — you're back before the end you gave\n"
    "A launch is found by its name or slug; close spellings work too."
)


def status_badge(status: str) -> str:
    emoji, label = STATUS_LOOK.get(status, (":grey_question:", status))
    return f"{emoji} {label}"


def launch_badge(status: str) -> str:
    emoji, label = LAUNCH_LOOK.get(status, (":grey_question:", status))
    return f"{emoji} {label}"


def usage() -> list[Block]:
    return [section(USAGE)]


def function_line(function: LaunchFunction, *, with_updated: bool = True) -> str:
    owner = user_mention(function.owner) if function.owner else "_no owner_"
    line = f"{status_badge(function.status)}  *{escape_mrkdwn(function.name)}* — {owner}"
    if function.note:
        line += f" · _{escape_mrkdwn(truncate(function.note, 200))}_"
    if with_updated and function.version > 0:
        line += f" · updated {slack_date(function.updated_at)}"
    return line


def function_sections(functions: list[LaunchFunction], *, with_updated: bool = True) -> list[Block]:
    if not functions:
        return [section("_No functions yet._")]
    blocks: list[Block] = []
    for start in range(0, len(functions), FUNCTIONS_PER_SECTION):
        chunk = functions[start : start + FUNCTIONS_PER_SECTION]
        blocks.append(section("\n".join(function_line(f, with_updated=with_updated) for f in chunk)))
    return blocks


def launch_heading(launch: Launch, days_to_launch: int) -> str:
    return (
        f"*{escape_mrkdwn(launch.name)}* (`{launch.slug}`) · {launch_badge(launch.status)}\n"
        f"Target {launch.target_date:%a %d %b %Y} · {days_to_launch_label(days_to_launch)} · "
        f"owner {user_mention(launch.owner)} · {channel_mention(launch.channel)}"
    )


def score_line(score: int, label: str) -> str:
    return f"*Readiness:* {score}/100 · {label}"


def matrix_blocks(matrix: Matrix, *, trend_chart: Sequence[Block] = ()) -> list[Block]:
    """`/launch status`: the sign-off matrix with score, trend (and its chart) and days to launch."""
    launch = matrix.launch
    blocks: list[Block] = [
        section(launch_heading(launch, matrix.days_to_launch)),
        section(score_line(matrix.score, matrix.trend.label)),
        *trend_chart,
        DividerBlock(),
        *function_sections(matrix.functions),
    ]
    schedule = calendar.describe_schedule(schedule_of(launch)) if launch.standups_enabled else "off"
    blocks.append(context(f"Standups: {escape_mrkdwn(schedule)}"))
    return blocks


def matrix_text(matrix: Matrix) -> str:
    days = days_to_launch_label(matrix.days_to_launch)
    return f"{escape_mrkdwn(matrix.launch.name)}: readiness {matrix.score}/100, {days}"


def launch_list_blocks(rows: list[tuple[Launch, int, int]]) -> list[Block]:
    """`/launch list`: (launch, score, days to launch) rows, soonest first."""
    if not rows:
        return [section("No live launches. `/launch new` creates one.")]
    lines = [
        f"{LAUNCH_LOOK.get(launch.status, ('', ''))[0]} *{escape_mrkdwn(launch.name)}* (`{launch.slug}`) — "
        f"{launch.target_date:%d %b %Y} ({days_to_launch_label(days)}) · readiness {score}/100 · "
        f"{channel_mention(launch.channel)}"
        for launch, score, days in rows
    ]
    blocks: list[Block] = [section("*Live launches*")]
    for start in range(0, len(lines), 10):
        blocks.append(section("\n".join(lines[start : start + 10])))
    blocks.append(context("`/launch status <launch>` shows a launch's sign-off matrix."))
    return blocks


def summary_blocks(summary: Summary, *, trend_chart: Sequence[Block] = ()) -> list[Block]:
    """The cut-off summary in the launch channel, with the readiness chart under the score."""
    launch = summary.launch
    change = trend(summary.score, summary.previous_score)
    blocks: list[Block] = [
        section(
            f":bar_chart: *Readiness standup — {escape_mrkdwn(launch.name)}* · "
            f"{summary.run.local_date:%a %d %b}\n"
            f"{score_line(summary.score, change.label)} · {days_to_launch_label(summary.days_to_launch)}"
        ),
        *trend_chart,
        *function_sections(summary.functions, with_updated=False),
    ]
    if summary.blockers:
        lines = [
            f"• *{escape_mrkdwn(f.name)}* — {user_mention(f.owner) if f.owner else '_no owner_'}"
            + (f": {escape_mrkdwn(truncate(f.note, 300))}" if f.note else "")
            for f in summary.blockers
        ]
        blocks.append(section(":red_circle: *Blockers*\n" + "\n".join(lines)))
    else:
        blocks.append(section(":large_green_circle: No blockers."))
    notes: list[str] = []
    if summary.silent:
        notes.append("No answer from " + ", ".join(user_mention(u) for u in summary.silent) + ".")
    else:
        notes.append("Everyone asked answered." if summary.away else "Everyone answered.")
    if summary.away:
        notes.append("Away: " + ", ".join(away_label(u, d) for u, d in summary.away.items()) + ".")
    if summary.unowned:
        names = ", ".join(escape_mrkdwn(f.name) for f in summary.unowned)
        notes.append(f"No owner: {names} (asked of the launch owner {user_mention(launch.owner)}).")
    blocks.append(context(" ".join(notes)))
    if summary.late:
        # A context block holds at most 10 elements; the latest changes are the news.
        blocks.append(context(*(late_line(answer, launch) for answer in summary.late[-10:])))
    return blocks


def late_line(answer: LateAnswer, launch: Launch) -> str:
    """ ":pencil2: updated: QA → Done by <@U1> at 15:10" (Slack shows the time in each reader's zone)."""
    local = answer.at.astimezone(calendar.zone_of(launch.timezone))
    when = f"<!date^{int(answer.at.timestamp())}^{{time}}|{local:%H:%M}>"
    label = STATUS_LOOK.get(answer.status, ("", answer.status))[1]
    who = user_mention(answer.user_id)
    return f":pencil2: updated: {escape_mrkdwn(answer.function)} → {label} by {who} at {when}"


def away_label(user_id: str, until: date | None) -> str:
    """ "<@U1> (away until Fri 19 Mar)", or "(away)" when their Slack status gives no end."""
    return (
        f"{user_mention(user_id)} (away until {until:%a %d %b})"
        if until
        else f"{user_mention(user_id)} (away)"
    )


def summary_text(summary: Summary) -> str:
    change = trend(summary.score, summary.previous_score)
    text = (
        f"Readiness standup for {escape_mrkdwn(summary.launch.name)}: {summary.score}/100 ({change.label}), "
        f"{plural(len(summary.blockers), 'blocker')}, {days_to_launch_label(summary.days_to_launch)}"
    )
    if summary.late:
        changes = ", ".join(
            f"{escape_mrkdwn(a.function)} → {STATUS_LOOK.get(a.status, ('', a.status))[1]}"
            for a in summary.late
        )
        text += f"; updated after the cut-off: {changes}"
    return text


def blocked_alert_text(
    *, launch: Launch, function: LaunchFunction, by: str | None, days_to_launch: int
) -> str:
    """The DM the launch owner (and area owner) gets when a function turns Blocked."""
    owner = user_mention(function.owner) if function.owner else "_no owner_"
    text = (
        f":rotating_light: *{escape_mrkdwn(function.name)}* is *blocked* on *{escape_mrkdwn(launch.name)}* "
        f"({days_to_launch_label(days_to_launch)}). Function owner: {owner}"
    )
    if by and by != function.owner:
        text += f", set by {user_mention(by)}"
    text += "."
    if function.note:
        text += f"\n> {escape_mrkdwn(truncate(function.note, 500))}"
    if launch.channel:
        text += f"\nLaunch channel: {channel_mention(launch.channel)}"
    return text


def dm_link(team_id: str, user_id: str) -> str:
    """A link that opens a direct message with `user_id` in the Slack client."""
    return f"slack://user?team={team_id}&id={user_id}"


def blocked_alert_blocks(
    *,
    launch: Launch,
    function: LaunchFunction,
    by: str | None,
    days_to_launch: int,
    contact: tuple[str, str] | None,
) -> list[Block]:
    """The Blocked alert with "Open launch status" and, when someone else is to ask, "Message <name>".

    `contact` is (user id, name) of the person to message: the function's owner, or whoever set
    the status when the function has none.
    """
    buttons = [
        ButtonElement(
            text=plain("Open launch status"),
            action_id=LaunchId.OPEN_STATUS,
            value=str(launch.id),
            style="primary",
        )
    ]
    if contact is not None:
        user_id, name = contact
        buttons.append(
            ButtonElement(
                text=plain(f"Message {escape_mrkdwn(name)}"),
                action_id=LaunchId.MESSAGE_OWNER,
                url=dm_link(launch.team_id, user_id),
                value=user_id,
            )
        )
    text = blocked_alert_text(launch=launch, function=function, by=by, days_to_launch=days_to_launch)
    return [section(text), ActionsBlock(block_id=f"{LaunchId.ALERT_BLOCK}:{function.id}", elements=buttons)]


def launch_created_text(launch: Launch, functions: list[LaunchFunction], problems: list[str]) -> str:
    owners = ", ".join(
        f"{escape_mrkdwn(f.name)} ({user_mention(f.owner) if f.owner else 'no owner'})" for f in functions
    )
    text = (
        f":rocket: Created *{escape_mrkdwn(launch.name)}* (`{launch.slug}`), "
        f"target {launch.target_date:%d %b %Y}, "
        f"in {channel_mention(launch.channel)}.\nFunctions: {owners}.\n"
        f"Standups: {escape_mrkdwn(calendar.describe_schedule(schedule_of(launch)))}."
    )
    if problems:
        text += "\n:warning: " + escape_mrkdwn("; ".join(problems))
    return text


def launch_intro_blocks(matrix: Matrix, created_by: str | None) -> list[Block]:
    """The first message in the launch channel."""
    by = f" by {user_mention(created_by)}" if created_by else ""
    return [
        section(f":rocket: This channel tracks the launch of *{escape_mrkdwn(matrix.launch.name)}*{by}."),
        *matrix_blocks(matrix),
    ]
