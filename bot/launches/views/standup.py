"""Block Kit for a function owner: the standup DM and the App Home sign-off sections."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from bot.core.text import escape_mrkdwn, truncate
from bot.launches.answers import PromptData
from bot.launches.launches import Matrix
from bot.launches.readiness import days_to_launch_label
from bot.launches.views.matrix import ANSWERS, STATUS_LOOK, LaunchId, launch_badge, status_badge
from bot.slack.blocks import context, plain, section
from models.launch import Launch, LaunchFunction, RunStatus, StandupResponse


def answer_value(run_id: int | None, function_id: int) -> str:
    """Button value: the run the answer belongs to (0 outside a standup) and the function."""
    return f"{run_id or 0}:{function_id}"


def parse_answer_value(value: str) -> tuple[int | None, int]:
    run_part, _, function_part = value.partition(":")
    return (int(run_part) or None), int(function_part)


def answer_buttons(function: LaunchFunction, run_id: int | None) -> ActionsBlock:
    """On track / At risk / Blocked / Done / Add note; the current status is marked."""
    value = answer_value(run_id, function.id)
    buttons = []
    for status in ANSWERS:
        label = STATUS_LOOK[status][1]
        chosen = function.status == status
        buttons.append(
            ButtonElement(
                text=plain(f"✓ {label}" if chosen else label),
                action_id=f"{LaunchId.STATUS}:{status}",
                value=value,
                style="primary" if chosen else None,
            )
        )
    buttons.append(ButtonElement(text=plain("Add note"), action_id=LaunchId.NOTE, value=value))
    return ActionsBlock(block_id=f"{LaunchId.FUNCTION_BLOCK}:{function.id}", elements=buttons)


def _function_card(
    function: LaunchFunction, response: StandupResponse | None, *, in_run: bool
) -> list[Block]:
    text = f"*{escape_mrkdwn(function.name)}* — now {status_badge(function.status)}"
    if function.owner is None:
        text += " · _no owner yet, so you are asked as the launch owner_"
    if function.note:
        text += f"\n_{escape_mrkdwn(truncate(function.note, 500))}_"
    blocks: list[Block] = [section(text)]
    if response is not None:
        blocks.append(
            context(f":ballot_box_with_check: Answered for this standup: {status_badge(response.status)}")
        )
    elif in_run and function.note:
        blocks.append(context("Note saved. Pick a status to answer this standup."))
    return blocks


def prompt_blocks(data: PromptData, *, reminder: bool = False) -> list[Block]:
    """One owner's standup DM: each of their functions with its answer buttons."""
    launch = data.launch
    lead = (
        ":bell: *Reminder* — your answer is still missing for"
        if reminder
        else ":clipboard: Readiness standup for"
    )
    blocks: list[Block] = [
        section(
            f"{lead} *{escape_mrkdwn(launch.name)}* · {days_to_launch_label(data.days_to_launch)} "
            f"(target {launch.target_date:%a %d %b}).\nHow is your part going?"
        )
    ]
    run_id = data.run.id if data.run else None
    for function in data.functions:
        blocks.append(DividerBlock())
        blocks.extend(_function_card(function, data.responses.get(function.id), in_run=run_id is not None))
        blocks.append(answer_buttons(function, run_id))
    if not data.functions:
        blocks.append(section("_You no longer own a function of this launch; nothing to answer._"))
    if data.run is not None and data.run.status == RunStatus.CLOSED:
        blocks.append(context(":memo: This standup's summary is posted; an answer now updates it."))
    blocks.append(
        context("Your answer updates the launch's sign-off matrix at once. Blocked alerts the launch owner.")
    )
    return blocks


def prompt_text(data: PromptData, *, reminder: bool = False) -> str:
    names = ", ".join(escape_mrkdwn(f.name) for f in data.functions)
    verb = "is" if len(data.functions) == 1 else "are"
    prefix = "Reminder: readiness standup" if reminder else "Readiness standup"
    return f"{prefix} for {escape_mrkdwn(data.launch.name)}: how {verb} {names} going?"


def my_launches_section(rows: list[Matrix], user_id: str) -> list[Block]:
    """App Home: live launches the user owns or signs off, with readiness and days to launch."""
    blocks: list[Block] = [section("*My launches*")]
    if not rows:
        blocks.append(context("No live launches involve you. `/launch new` creates one."))
        return blocks
    lines = []
    for matrix in rows:
        launch = matrix.launch
        role = "owner" if launch.owner == user_id else "sign-off"
        lines.append(
            f"{launch_badge(launch.status)} *{escape_mrkdwn(launch.name)}* (`{launch.slug}`) · "
            f"readiness {matrix.score}/100 ({matrix.trend.label}) · "
            f"{days_to_launch_label(matrix.days_to_launch)} · {role}"
        )
    for start in range(0, len(lines), 10):
        blocks.append(section("\n".join(lines[start : start + 10])))
    return blocks


def pending_signoffs_section(rows: list[tuple[LaunchFunction, Launch]]) -> list[Block]:
    """App Home: the user's functions not yet done, each with its status buttons."""
    blocks: list[Block] = [section("*My pending sign-offs*")]
    if not rows:
        blocks.append(context(":white_check_mark: Nothing waiting for you."))
        return blocks
    # The Home tab holds at most 100 blocks, shared with other sections.
    for function, launch in rows[:12]:
        blocks.append(
            section(
                f"*{escape_mrkdwn(function.name)}* for *{escape_mrkdwn(launch.name)}* — "
                f"{status_badge(function.status)}"
                + (f"\n_{escape_mrkdwn(truncate(function.note, 300))}_" if function.note else "")
            )
        )
        blocks.append(answer_buttons(function, None))
    if len(rows) > 12:
        blocks.append(context(f"…and {len(rows) - 12} more; `/launch status <launch>` shows each launch."))
    return blocks


def undelivered_prompts(
    *, launch_name: str, unreached: list[tuple[str, list[str], str, str]], for_channel: bool
) -> tuple[str, list[Block]]:
    """To the launch owner (or its channel): whose standup prompt did not arrive, and why.

    `unreached` holds (person, the functions they answer for, why in words, Slack's error).
    """
    count = len(unreached)
    who = "this person" if count == 1 else f"these {count} people"
    head = (
        f":warning: The readiness standup prompt for *{escape_mrkdwn(launch_name)}* did not reach "
        f"{who}, so they were not asked:"
    )
    lines = []
    for user, functions, reason, error in unreached[:30]:
        answers_for = f" ({escape_mrkdwn(', '.join(functions))})" if functions else ""
        lines.append(f"• <@{user}>{answers_for}: {escape_mrkdwn(reason)} (`{escape_mrkdwn(error)}`)")
    if count > 30:
        lines.append(f"…and {count - 30} more.")
    ask = "the launch owner" if for_channel else "you"
    footer = (
        f"Switchboard will not try again this run; {ask} may ask them another way. "
        "The summary lists them as not answering."
    )
    blocks: list[Block] = [section(head)]
    for start in range(0, len(lines), 10):
        blocks.append(section("\n".join(lines[start : start + 10])))
    blocks.append(context(footer))
    return "\n".join([head, *lines, footer]), blocks
