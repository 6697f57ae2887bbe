"""Demo chapter: a theme tracked in a GitHub issue moves with it; the GitHub release ships it, drafts
its announcement, and the customers who asked hear back in their threads."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from bot.core.uow import unit_of_work
from bot.demo.stage import GITHUB_SECRET, Stage
from bot.feedback.views.common import STATUS_LABELS, FeedbackId
from bot.feedback.views.themes import ThemeModalMetadata
from bot.integrations.signatures import sign
from bot.releases.views.ids import WHEN_NOW, ReleaseId
from models import Release, Theme

THEME = "Import from Excel"
ISSUE = 42
ISSUE_URL = f"https://github.com/acme/app/issues/{ISSUE}"
OWNER, APPROVER = "U0PRIYA", "U0BEN"
_REPOSITORY = {
    "id": 1296269,
    "name": "app",
    "full_name": "acme/app",
    "private": False,
    "owner": {"login": "acme", "id": 1, "type": "Organization"},
    "html_url": "https://github.com/acme/app",
}
_SENDER = {"login": "octocat", "id": 1}


def _issue(action: str, *, state_reason: str | None = None) -> dict[str, Any]:
    closed = action == "closed"
    assignee = {"login": "hubot", "id": 2} if action == "assigned" else None
    return {
        "action": action,
        "issue": {
            "html_url": ISSUE_URL,
            "number": ISSUE,
            "title": "Import customers from Excel",
            "state": "closed" if closed else "open",
            "state_reason": state_reason,
            "assignee": assignee,
            "assignees": [assignee] if assignee else [],
            "body": "Customers keep asking for this.",
        },
        **({"assignee": assignee} if assignee else {}),
        "repository": _REPOSITORY,
        "sender": _SENDER,
    }


def _release() -> dict[str, Any]:
    return {
        "action": "published",
        "release": {
            "html_url": "https://github.com/acme/app/releases/tag/v2.5.0",
            "id": 2,
            "tag_name": "v2.5.0",
            "name": "Imports",
            "draft": False,
            "prerelease": False,
            "body": f"## What's Changed\n* Import customers from an Excel sheet. Closes #{ISSUE}\n",
        },
        "repository": _REPOSITORY,
        "sender": _SENDER,
    }


async def _github(stage: Stage, event: str, payload: dict[str, Any]) -> None:
    """A signed GitHub delivery, then the scheduler until its effects have reached Slack."""
    body = json.dumps(payload).encode()
    response = await stage.slack.http.post(
        "/webhooks/github",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": f"sha256={sign(body=body, secret=GITHUB_SECRET)}",
        },
    )
    stage.say(f"  GitHub → POST /webhooks/github ({event} {payload['action']}): {response.status_code}")
    for _ in range(5):
        if not await stage.run_scheduler():
            break
    stage.show_new()
    async with unit_of_work(stage.runtime.session_factory) as session:
        status = await session.scalar(select(Theme.status).where(Theme.title == THEME))
    stage.say(f"  Theme *{THEME}* is now: {STATUS_LABELS.get(str(status), str(status))}")


_SUBMITTED: dict[str, tuple[str, str, Any]] = {
    "plain_text_input": ("value", "initial_value", None),
    "static_select": ("selected_option", "initial_option", None),
    "external_select": ("selected_option", "initial_option", None),
    "radio_buttons": ("selected_option", "initial_option", None),
    "multi_external_select": ("selected_options", "initial_options", []),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", []),
    "datepicker": ("selected_date", "initial_date", None),
    "timepicker": ("selected_time", "initial_time", None),
    "users_select": ("selected_user", "initial_user", None),
}


def _submitted(view: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` of a modal submitted as it was opened (every input left as filled in)."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") not in _SUBMITTED:
            continue
        key, initial, empty = _SUBMITTED[element["type"]]
        values[block["block_id"]] = {
            element["action_id"]: {"type": element["type"], key: element.get(initial, empty)}
        }
    return values


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        elements = (
            block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        )
        for element in elements:
            if str(element.get("action_id", "")).startswith(action_id):
                return dict(element)
    raise LookupError(action_id)


async def _log_by_reaction(
    stage: Stage, *, user: str, channel: str, author: str, text: str
) -> dict[str, Any]:
    """`user` reacts with the feedback emoji to what `author` wrote; the confirmation they see."""
    message = stage.emulator.add_message(channel, author, text)
    shown = len(stage.emulator.calls_to("chat.postEphemeral"))
    await stage.slack.event(
        {
            "type": "reaction_added",
            "user": user,
            "reaction": stage.runtime.settings.feedback_emoji,
            "item": {"type": "message", "channel": channel, "ts": message["ts"]},
            "item_user": author,
            "event_ts": message["ts"],
        }
    )
    [*_, confirmation] = await stage.emulator.wait_for("chat.postEphemeral", shown + 1)
    await stage.run_scheduler()
    stage.show_new()
    return dict(confirmation.args)


async def run(stage: Stage) -> None:
    stage.chapter("Where work is tracked: a GitHub issue moves the theme, the release closes the loop")
    emulator = stage.emulator

    stage.step("@emma reacts with :memo: to a customer request in #support")
    confirmation = await _log_by_reaction(
        stage,
        user="U0EMMA",
        channel="C0SUPPORT",
        author="U0EMMA",
        text="Initech: we need to import our customers from an Excel sheet, typing them in is too slow",
    )

    stage.step(f"@emma clicks *New theme*: “Import from Excel”, area Bulk import, tracked in {ISSUE_URL}")
    new_theme = _button(json.loads(json.dumps(confirmation["blocks"])), FeedbackId.NEW_THEME)
    await stage.slack.block_action(
        FeedbackId.NEW_THEME, new_theme["value"], user="U0EMMA", channel="C0SUPPORT"
    )
    [*_, opened] = await emulator.wait_for("views.open")
    metadata = ThemeModalMetadata.model_validate_json(opened["view"]["private_metadata"])
    shown = len(emulator.calls_to("chat.postEphemeral"))
    await stage.slack.view_submission(
        FeedbackId.THEME_MODAL,
        {
            FeedbackId.THEME_TITLE_BLOCK: {FeedbackId.THEME_TITLE: {"value": "Import from Excel"}},
            FeedbackId.THEME_DESCRIPTION_BLOCK: {FeedbackId.THEME_DESCRIPTION: {"value": None}},
            FeedbackId.THEME_AREA_BLOCK: {FeedbackId.AREA: {"selected_option": {"value": "bulk-import"}}},
            FeedbackId.THEME_LINKS_BLOCK: {FeedbackId.THEME_LINKS: {"value": ISSUE_URL}},
        },
        user="U0EMMA",
        private_metadata=metadata.model_dump_json(exclude_none=True),
        view_id="VDEMOTHEME",
    )
    await emulator.wait_for("chat.postEphemeral", shown + 1)
    stage.show_new()

    stage.step("@farid logs Globex asking for the same in #general and links it to the theme")
    confirmation = await _log_by_reaction(
        stage,
        user="U0FARID",
        channel="C0GENERAL",
        author="U0FARID",
        text="Globex would love to import customers from Excel too",
    )
    answered = len(emulator.calls_to("response_url"))
    link_it = _button(confirmation["blocks"], FeedbackId.LINK_THEME)
    await stage.slack.block_action(
        link_it["action_id"], link_it["value"], user="U0FARID", channel="C0GENERAL"
    )
    await emulator.wait_for("response_url", answered + 1)
    stage.show_new()

    stage.step(f"On GitHub, acme/app#{ISSUE} is assigned, then closed as completed")
    await _github(stage, "issues", _issue("assigned"))
    await _github(stage, "issues", _issue("closed", state_reason="completed"))

    stage.step("GitHub release v2.5.0 is published; its notes say “Closes #42”")
    await _github(stage, "release", _release())

    stage.step(
        "@priya, who owns the draft, sets it to post as soon as it is approved (*Edit* in `/release status`)"
    )
    async with unit_of_work(stage.runtime.session_factory) as session:
        drafted = await session.scalar(select(Release.id).where(Release.version == "v2.5.0"))
    status = (
        await stage.slack.command("/release", f"status {drafted}", user=OWNER, channel="C0GENERAL")
    ).json()
    opened_before = len(emulator.calls_to("views.open"))
    edit = _button(status["blocks"], ReleaseId.EDIT)
    await stage.slack.block_action(ReleaseId.EDIT, edit["value"], user=OWNER, channel="C0GENERAL")
    [*_, editing] = await emulator.wait_for("views.open", opened_before + 1)
    values = _submitted(editing["view"])
    values[ReleaseId.WHEN_BLOCK] = {
        ReleaseId.WHEN: {"type": "radio_buttons", "selected_option": {"value": WHEN_NOW}}
    }
    await stage.slack.view_submission(
        ReleaseId.MODAL,
        values,
        user=OWNER,
        private_metadata=editing["view"]["private_metadata"],
        view_id="VDEMODRAFT",
    )
    await stage.run_scheduler()
    stage.show_new()

    stage.step("@ben clicks *Approve* on the drafted announcement in his DM")
    request = [c for c in emulator.calls_to("chat.postMessage") if c.get("channel") == APPROVER][-1]
    answered = len(emulator.calls_to("response_url"))
    approve = _button(request["blocks"], ReleaseId.APPROVE)
    await stage.slack.block_action(ReleaseId.APPROVE, approve["value"], user=APPROVER, channel="D0BEN")
    await emulator.wait_for("response_url", answered + 1)
    for _ in range(3):
        await stage.run_scheduler()
    stage.show_new()
