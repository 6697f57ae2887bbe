"""Where a release stands: `/release status` and `/release list`, and the owner's report once it is
posted."""

from __future__ import annotations

from collections import Counter
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.core.permissions import Actor, may_cancel_release, may_edit_release, may_retry_release
from bot.core.text import and_list, channel_mention, escape_mrkdwn, plural, user_mention
from bot.releases.releases import ON_AIR
from bot.releases.views._common import _actor, _chunks, _time, _when, release_facts
from bot.releases.views.ids import ReleaseId
from bot.slack.blocks import as_dicts, context, plain, section
from bot.slack.errors import CHANNEL_ERRORS
from models import PostState, Release, ReleaseEvent, ReleasePost, ReleaseStatus

USAGE = (
    "*/release* announces releases to many channels, in each channel's language.\n"
    "• `/release new` — compose one (or use the *New release* shortcut)\n"
    "• `/release list` — recent releases\n"
    "• `/release status <release>` — where it was posted, with links\n"
    "• `/release cancel <release>` — call it off before it posts\n"
    "Name a release by its number (`12` or `#12`), its version or its title."
)


STATUS_EMOJI: dict[str, str] = {
    ReleaseStatus.DRAFT: ":pencil2:",
    ReleaseStatus.PENDING_APPROVAL: ":hourglass_flowing_sand:",
    ReleaseStatus.APPROVED: ":white_check_mark:",
    ReleaseStatus.SCHEDULED: ":calendar:",
    ReleaseStatus.POSTING: ":outbox_tray:",
    ReleaseStatus.POSTED: ":rocket:",
    ReleaseStatus.PARTIALLY_POSTED: ":warning:",
    ReleaseStatus.FAILED: ":x:",
    ReleaseStatus.CANCELLED: ":no_entry_sign:",
}
POST_EMOJI: dict[str, str] = {
    PostState.PENDING: ":hourglass_flowing_sand:",
    PostState.POSTING: ":outbox_tray:",
    PostState.POSTED: ":white_check_mark:",
    PostState.FAILED: ":x:",
    PostState.CANCELLED: ":no_entry_sign:",
}


# A message holds 50 blocks; the status list shows this many channels, then a count.
STATUS_LINES = 120


def _post_line(post: ReleasePost) -> str:
    where = channel_mention(post.channel)
    language = f" ({post.locale})"
    if post.state == PostState.POSTED:
        link = f"<{post.permalink}|view>" if post.permalink else "posted"
        edit = ""
        if post.error:
            edit = f" — :warning: {escape_mrkdwn(post.error)}"
        elif post.edited_at:
            edit = " — edited"
        return f"{POST_EMOJI[PostState.POSTED]} {where}{language} — {link}{edit}"
    if post.state == PostState.FAILED:
        error = post.error or "failed"
        hint = CHANNEL_ERRORS.get(error)
        return f"{POST_EMOJI[PostState.FAILED]} {where}{language} — `{escape_mrkdwn(error)}`" + (
            f": {hint}" if hint else ""
        )
    state = str(post.state)
    retry = (
        f" (retrying: {escape_mrkdwn(post.error)})" if post.error and post.state == PostState.PENDING else ""
    )
    return f"{POST_EMOJI.get(post.state, '')} {where}{language} — {state}{retry}"


def _post_sections(posts: list[ReleasePost]) -> list[Block]:
    lines = [_post_line(p) for p in posts[:STATUS_LINES]]
    if len(posts) > STATUS_LINES:
        lines.append(f"…and {len(posts) - STATUS_LINES} more channels (the admin API lists them all).")
    blocks: list[Block] = []
    for chunk in _chunks("\n".join(lines)):
        blocks.append(section(chunk))
    return blocks


# The headline names this many failed channels, then a count.
HEADLINE_FAILURES = 5


def _failures(failed: list[ReleasePost]) -> str:
    named = [f"{channel_mention(p.channel)} ({escape_mrkdwn(p.error or 'failed')})" for p in failed]
    return and_list(named, limit=HEADLINE_FAILURES)


def delivery_headline(posts: list[ReleasePost]) -> str | None:
    """Where the posts stand, in one line: "Posted in 3 of 5 channels; 2 failed: …". None before
    any channel was tried (or while the first tries are under way)."""
    total = len(posts)
    posted = [p for p in posts if p.state == PostState.POSTED]
    failed = [p for p in posts if p.state == PostState.FAILED]
    waiting = [p for p in posts if p.state in (PostState.PENDING, PostState.POSTING)]
    if not total or (len(waiting) == total and not any(p.error for p in waiting)):
        return None
    line = f"Posted in {len(posted)} of {plural(total, 'channel')}"
    if waiting:
        retrying = sum(1 for p in waiting if p.error)
        line += f"; {len(waiting)} still to go" + (f" ({retrying} retrying)" if retrying else "")
    if failed:
        line += f"; {len(failed)} failed: {_failures(failed)}"
    return line + "."


def _retry_button(release: Release) -> ButtonElement:
    return ButtonElement(
        text=plain("Retry failed channels"), action_id=ReleaseId.RETRY, value=str(release.id)
    )


def posting_report(
    release: Release, posts: list[ReleasePost], themes: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    """The owner's DM once every channel has an answer: where it went, and what to fix."""
    posted = [p for p in posts if p.state == PostState.POSTED]
    failed = [p for p in posts if p.state == PostState.FAILED]
    title = escape_mrkdwn(f"{release.title} {release.version or ''}".strip())
    where = f"{len(posted)} of {plural(len(posts), 'channel')}"
    if not failed:
        head = f":rocket: Release *#{release.id} {title}* is posted in {where}."
    elif posted:
        head = f":warning: Release *#{release.id} {title}* is only partially posted: posted in {where}."
    else:
        head = f":x: Release *#{release.id} {title}* failed: posted in {where}."
    blocks: list[Block] = [section(head)]
    if failed:
        blocks.append(section(f":warning: *{plural(len(failed), 'channel')} did not get it:*"))
        blocks.extend(_post_sections(failed))
        blocks.append(ActionsBlock(elements=[_retry_button(release)]))
    if themes and posted:
        names = ", ".join(f"*{escape_mrkdwn(t)}*" for t in themes)
        blocks.append(context(f"Marked shipped: {names} — everyone who asked for them is being told."))
    text = f"Release #{release.id} posted in {where}"
    if failed:
        named = ", ".join(f"#{p.channel} ({p.error or 'failed'})" for p in failed[:HEADLINE_FAILURES])
        more = f" and {len(failed) - HEADLINE_FAILURES} more" if len(failed) > HEADLINE_FAILURES else ""
        text += f"; {len(failed)} failed: {named}{more}"
    return text, as_dicts(blocks)


def release_status(
    release: Release,
    posts: list[ReleasePost],
    events: list[ReleaseEvent],
    *,
    actor: Actor,
    held: ReleaseEvent | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """`/release status`: state, schedule, approval, and every channel with a link; only the
    buttons `actor` may use. `held`: a change to the posted release waiting for its approver."""
    title = escape_mrkdwn(f"{release.title} {release.version or ''}".strip())
    emoji = STATUS_EMOJI.get(release.status, "")
    headline = delivery_headline(posts) if release.status in ON_AIR else None
    blocks: list[Block] = [
        section(
            f"{emoji} *Release #{release.id} — {title}* is *{str(release.status).replace('_', ' ')}*.\n"
            + (f"*{headline}*\n" if headline else "")
            + release_facts(release, posts)
        ),
        *_post_sections(posts),
    ]
    if held is not None:
        blocks.append(
            context(
                f":hourglass_flowing_sand: A change by {_actor(held.actor)} waits for "
                f"{user_mention(release.approver)} to approve it; the posted messages stay as they are."
            )
        )
    if events:
        recent = [f"{e.kind.replace('_', ' ')} by {_actor(e.actor)} {_time(e.at)}" for e in events[-5:]]
        blocks.append(context(" · ".join(recent)))
    buttons: list[ButtonElement] = []
    if release.status != ReleaseStatus.CANCELLED and may_edit_release(actor, release).allowed:
        buttons.append(ButtonElement(text=plain("Edit"), action_id=ReleaseId.EDIT, value=str(release.id)))
    if any(p.state == PostState.FAILED for p in posts) and may_retry_release(actor, release).allowed:
        buttons.append(_retry_button(release))
    if (
        release.status
        in {
            ReleaseStatus.DRAFT,
            ReleaseStatus.PENDING_APPROVAL,
            ReleaseStatus.APPROVED,
            ReleaseStatus.SCHEDULED,
        }
        and may_cancel_release(actor, release).allowed
    ):
        buttons.append(
            ButtonElement(
                text=plain("Cancel"), action_id=ReleaseId.CANCEL, value=str(release.id), style="danger"
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    text = f"Release #{release.id} is {str(release.status).replace('_', ' ')}"
    return text + (f": {headline}" if headline else ""), as_dicts(blocks)


def release_list(releases: list[Release], counts: dict[int, Counter[str]]) -> list[dict[str, Any]]:
    if not releases:
        return as_dicts([section("No releases yet. `/release new` composes one.")])
    lines = []
    for r in releases:
        total = sum(counts.get(r.id, Counter()).values())
        emoji = STATUS_EMOJI.get(r.status, "")
        title = escape_mrkdwn(f"{r.title} {r.version or ''}".strip())
        lines.append(
            f"{emoji} *#{r.id}* {title} — {str(r.status).replace('_', ' ')} · {_when(r)} · "
            f"{plural(total, 'channel')}"
        )
    blocks: list[Block] = [section(chunk) for chunk in _chunks("\n".join(lines))]
    blocks.append(context("`/release status <number>` shows where one was posted."))
    return as_dicts(blocks)


def usage() -> list[dict[str, Any]]:
    return as_dicts([section(USAGE)])
