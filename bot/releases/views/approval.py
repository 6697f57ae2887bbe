"""The approver's DM, their answer, the Request changes modal, and the owner's DMs about it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, DividerBlock, InputBlock
from slack_sdk.models.views import View

from bot.core.text import escape_mrkdwn, user_mention
from bot.releases.releases import ReleaseCopy
from bot.releases.views._common import _actor, _time, _when, language_name, release_facts
from bot.releases.views.ids import ReleaseId
from bot.releases.views.message import release_message
from bot.slack.blocks import context, plain, section, text_input
from models import Release, ReleaseEvent, ReleasePost


def approval_request(
    release: Release,
    posts: list[ReleasePost],
    copy: ReleaseCopy,
    *,
    changes: list[dict[str, str]] | None = None,
    proposal: ReleaseEvent | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The approver's DM: what changed (if it was approved or posted before), the message as it
    will post, the facts, Approve / Request changes. `proposal`: a change held back from a posted
    release; `copy` is then the message as it reads with the change."""
    _text, message = release_message(copy)
    value = f"{release.id}:{release.revision}" + (f":{proposal.id}" if proposal is not None else "")
    title = escape_mrkdwn(release.title)
    if proposal is not None:
        ask = (
            f":inbox_tray: {_actor(proposal.actor)} changed release *#{release.id} {title}*, which is "
            "already posted. Its messages stay as they are until you approve the change."
        )
    elif changes:
        ask = (
            f":inbox_tray: {user_mention(release.owner)} changed release *#{release.id} {title}* after "
            "it was approved; please approve it again before it is posted."
        )
    else:
        ask = (
            f":inbox_tray: {user_mention(release.owner)} asks you to approve release *#{release.id}* "
            "before it is posted."
        )
    head = section(f"{ask}\n{release_facts(release, posts)}")
    others = sorted({p.locale for p in posts} - {copy.locale})
    blocks: list[dict[str, Any]] = [head.to_dict(), *changes_blocks(changes or [], release=release)]
    blocks += [DividerBlock().to_dict(), *message]
    if others:
        blocks.append(
            context(
                "Also posted in " + ", ".join(language_name(o) for o in others) + " (`/release status "
                f"{release.id}` shows every channel)."
            ).to_dict()
        )
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=plain("Approve"), action_id=ReleaseId.APPROVE, value=value, style="primary"
                ),
                ButtonElement(
                    text=plain("Request changes"), action_id=ReleaseId.REQUEST_CHANGES, value=value
                ),
            ]
        ).to_dict()
    )
    what = "the changes to release" if changes else "release"
    return f"Please approve {what} #{release.id}: {title}", blocks


# Each side of a change is cut here so that one change stays within a section's 3,000 characters.
CHANGE_EXCERPT = 1200
_FIELD_NAMES = {
    "title": "Title",
    "version": "Version",
    "summary": "Summary",
    "notes": "Notes",
    "default_locale": "Default language",
    "launch": "Launch",
    "themes": "Themes",
    "channels": "Channels",
    "when": "When",
}


def changes_blocks(changes: list[dict[str, str]], *, release: Release) -> list[dict[str, Any]]:
    """What changed, each field's old and new value, quoted and escaped."""
    if not changes:
        return []
    blocks = [section("*What changed*").to_dict()]
    for change in changes[:20]:
        name = _FIELD_NAMES.get(change["field"], change["field"])
        if change.get("locale"):
            name += f" ({language_name(change['locale'])})"
        old = _change_value(change["field"], change.get("old", ""), release)
        new = _change_value(change["field"], change.get("new", ""), release)
        blocks.append(section(f"*{name}*\n*Before:*\n{old}\n*After:*\n{new}").to_dict())
    if len(changes) > 20:
        blocks.append(context(f"…and {len(changes) - 20} more changes.").to_dict())
    return blocks


def _change_value(field: str, value: str, release: Release) -> str:
    if field == "when":
        if value == "now":
            return "> as soon as it is approved"
        if not value:
            return "> no time set"
        return f"> {_time(datetime.fromisoformat(value), zone=release.timezone)}"
    if not value.strip():
        return "> _empty_"
    # Channel lists are built from validated ids, so their `<#C…>` links are kept.
    shown = value if field == "channels" else escape_mrkdwn(value)
    if len(shown) > CHANGE_EXCERPT:
        shown = shown[:CHANGE_EXCERPT] + "…"
    return "\n".join(f"> {line}" for line in shown.splitlines())


def approval_answered(release: Release, *, approved: bool, by: str, revised: bool = False) -> str:
    title = escape_mrkdwn(release.title)
    if revised:
        if approved:
            return (
                f":white_check_mark: {user_mention(by)} approved the changes to release *#{release.id} "
                f"{title}*; every posted message is being updated."
            )
        return (
            f":memo: {user_mention(by)} sent the changes to release *#{release.id} {title}* back; "
            "its posted messages stay as they are."
        )
    if approved:
        return (
            f":white_check_mark: {user_mention(by)} approved release *#{release.id} {title}*. "
            f"It posts {_when(release)}."
        )
    return f":memo: {user_mention(by)} sent release *#{release.id} {title}* back for changes."


def changes_modal(release: Release, revision: int) -> View:
    return View(
        type="modal",
        callback_id=ReleaseId.CHANGES_MODAL,
        title=plain("Request changes"),
        submit=plain("Send back"),
        close=plain("Cancel"),
        private_metadata=f"{release.id}:{revision}",
        blocks=[
            section(f"What should change in *{escape_mrkdwn(release.title)}*?"),
            InputBlock(
                block_id=ReleaseId.REASON_BLOCK,
                label=plain("Changes needed"),
                element=text_input(ReleaseId.REASON, multiline=True, max_length=2000),
            ),
        ],
    )


def owner_notice(release: Release, event: ReleaseEvent) -> str:
    """The DM telling the owner (or approver) what someone else did to their release."""
    title = f"*#{release.id} {escape_mrkdwn(release.title)}*"
    actor = _actor(event.actor)
    if event.kind == "approved" and event.detail.get("proposal"):
        return (
            f":white_check_mark: {actor} approved your changes to release {title}; "
            "every posted message is being updated."
        )
    if event.kind == "changes_requested" and event.detail.get("proposal"):
        reason = escape_mrkdwn(str(event.detail.get("reason") or "")).strip()
        quoted = "\n" + "\n".join(f"> {line}" for line in reason.splitlines()) if reason else ""
        return (
            f":memo: {actor} did not approve your changes to release {title}; its posted messages "
            f"stay as they are.{quoted}\nEdit it again with `/release status {release.id}` → *Edit*."
        )
    if event.kind == "approved":
        return f":white_check_mark: {actor} approved release {title}. It posts {_when(release)}."
    if event.kind == "changes_requested":
        reason = escape_mrkdwn(str(event.detail.get("reason") or "")).strip()
        quoted = "\n" + "\n".join(f"> {line}" for line in reason.splitlines()) if reason else ""
        return (
            f":memo: {actor} asked for changes to release {title} before approving it.{quoted}\n"
            f"Edit it with `/release status {release.id}` → *Edit*; it goes back for approval."
        )
    if event.kind == "cancelled":
        return f":no_entry_sign: {actor} cancelled release {title}; nothing was posted."
    return f"Release {title}: {event.kind.replace('_', ' ')} by {actor}."
