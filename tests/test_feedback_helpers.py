"""Shared steps of the feedback tests: a directory, messages people wrote, modal submissions."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.feedback.views.common import FeedbackId
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from models import Feedback, FeedbackReporter

TEAM = "T0SWITCH"


async def add_areas(runtime: Runtime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        for data in (
            {"name": "Billing", "owner": "U0BOB", "channel": "C0GENERAL", "aliases": ["invoices"]},
            {"name": "Bulk export", "owner": "U0CAROL", "description": "CSV exports of reports"},
            {"name": "Search", "owner": "U0DAVE"},
        ):
            await area_service.create_area(session=session, team_id=TEAM, data=AreaIn(**data))


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b.get("block_id", "") for b in view.get("blocks", [])]


def modal_values(
    *,
    text: str | None = None,
    kind: str = "request",
    importance: str = "medium",
    customer: str | None = None,
    segment: str | None = None,
    area: str | None = None,
    tags: str | None = None,
    theme: str | None = None,
    suggested: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """`view.state.values` as Slack sends them for the feedback modal."""

    def selected(value: str | None) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value} if value else None}

    values: dict[str, dict[str, dict[str, Any]]] = {
        FeedbackId.KIND_BLOCK: {FeedbackId.KIND: selected(kind)},
        FeedbackId.IMPORTANCE_BLOCK: {FeedbackId.IMPORTANCE: selected(importance)},
        FeedbackId.CUSTOMER_BLOCK: {FeedbackId.CUSTOMER: {"type": "plain_text_input", "value": customer}},
        FeedbackId.SEGMENT_BLOCK: {FeedbackId.SEGMENT: {"type": "plain_text_input", "value": segment}},
        FeedbackId.AREA_BLOCK: {FeedbackId.AREA: {"type": "external_select", **selected(area)}},
        FeedbackId.TAGS_BLOCK: {FeedbackId.TAGS: {"type": "plain_text_input", "value": tags}},
        FeedbackId.THEME_BLOCK: {FeedbackId.THEME: {"type": "external_select", **selected(theme)}},
    }
    if text is not None:
        values[FeedbackId.TEXT_BLOCK] = {FeedbackId.TEXT: {"type": "plain_text_input", "value": text}}
    if suggested is not None:
        values[FeedbackId.SUGGEST_BLOCK] = {
            FeedbackId.SUGGEST: {"type": "radio_buttons", "selected_option": {"value": suggested}}
        }
    return values


async def open_shortcut_modal(
    slack: SlackSender, emulator: SlackEmulator, message: dict[str, Any], *, user: str, channel: str
) -> dict[str, Any]:
    """Run "Log as feedback" on `message`; returns the modal Slack was asked to open."""
    before = len(emulator.calls_to("views.open"))
    response = await slack.message_shortcut(FeedbackId.SHORTCUT, message, user=user, channel=channel)
    assert response.status_code == 200
    calls = await emulator.wait_for("views.open", before + 1)
    view: dict[str, Any] = calls[-1]["view"]
    return view


async def submit_modal(
    slack: SlackSender, view: dict[str, Any], values: dict[str, Any], *, user: str, view_id: str
) -> Any:
    response = await slack.view_submission(
        FeedbackId.MODAL, values, user=user, private_metadata=view["private_metadata"], view_id=view_id
    )
    assert response.status_code == 200, response.text
    return response


async def react(
    slack: SlackSender, *, user: str, channel: str, ts: str, reaction: str = "memo", author: str = "U0BOB"
) -> None:
    response = await slack.event(
        {
            "type": "reaction_added",
            "user": user,
            "reaction": reaction,
            "item_user": author,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": "1700009999.000100",
        }
    )
    assert response.status_code == 200


async def feedback_rows(runtime: Runtime) -> list[Feedback]:
    async with unit_of_work(runtime.session_factory) as session:
        return list((await session.scalars(select(Feedback).order_by(Feedback.id))).all())


async def reporters(runtime: Runtime, feedback_id: int) -> list[str]:
    async with unit_of_work(runtime.session_factory) as session:
        rows = await session.scalars(
            select(FeedbackReporter.user_id)
            .where(FeedbackReporter.feedback_id == feedback_id)
            .order_by(FeedbackReporter.id)
        )
        return list(rows.all())


async def count_rows(runtime: Runtime, model: Any) -> int:
    async with unit_of_work(runtime.session_factory) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(view["private_metadata"])
    return result
