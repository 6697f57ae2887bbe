"""The approver's DM, their answer, the Request changes modal, and the owner's DMs about it."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, DividerBlock, InputBlock
from slack_sdk.models.views import View

from bot.core.text import escape_mrkdwn, user_mention
from bot.releases.releases import ReleaseCopy
from bot.releases.views._common import _actor, _when, language_name, release_facts
from bot.releases.views.ids import ReleaseId
from bot.releases.views.message import release_message
from bot.slack.blocks import context, plain, section, text_input
from models import Release, ReleaseEvent, ReleasePost


def approval_request(
    release: Release, posts: list[ReleasePost], copy: ReleaseCopy
) -> tuple[str, list[dict[str, Any]]]:
    """The approver's DM: the message as it will post, the facts, Approve / Request changes."""
    _text, message = release_message(copy)
    value = f"{release.id}:{release.revision}"
    head = section(
        f":inbox_tray: {user_mention(release.owner)} asks you to approve release *#{release.id}* "
        f"before it is posted.\n{release_facts(release, posts)}"
    )
    others = sorted({p.locale for p in posts} - {copy.locale})
    blocks: list[dict[str, Any]] = [head.to_dict(), DividerBlock().to_dict(), *message]
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
    return f"Please approve release #{release.id}: {escape_mrkdwn(release.title)}", blocks


def approval_answered(release: Release, *, approved: bool, by: str) -> str:
    title = escape_mrkdwn(release.title)
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
