"""What the standup tests share: a launch with three function owners, time passing for jobs, and
the DMs, buttons and rows Slack and the database end up with."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID
from bot.launches import launches as launch_service
from bot.launches.functions import functions_of
from bot.launches.schema import FunctionIn, LaunchIn
from models import Job, JobStatus
from models.base import utcnow

TEAM = "T0SWITCH"
LAUNCH_CHANNEL = "C0LAUNCH"
OWNERS = {"Engineering": "U0BOB", "QA": "U0CAROL", "Docs": "U0DAVE"}
SATURDAY = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)


async def make_launch(runtime: Runtime, emulator: SlackEmulator, **overrides: Any) -> int:
    """A launch owned by Alice with three functions, in its own channel; returns its id."""
    if LAUNCH_CHANNEL not in emulator.channels:
        emulator.add_channel(LAUNCH_CHANNEL, "launch-checkout", members=[BOT_USER_ID])
    created_at = overrides.pop("created_at", None)
    now = overrides.pop("now", None)
    values: dict[str, Any] = {
        "name": "Checkout v2",
        "target_date": date.today() + timedelta(days=20),
        "owner": "U0ALICE",
        "channel": LAUNCH_CHANNEL,
        "functions": [FunctionIn(name=name, owner=owner) for name, owner in OWNERS.items()],
        "timezone": "UTC",
    }
    values.update(overrides)
    async with unit_of_work(runtime.session_factory) as session:
        launch = await launch_service.create_launch(
            session=session,
            cache=runtime.area_cache,
            team_id=TEAM,
            data=LaunchIn(**values),
            default_timezone="UTC",
            created_by="U0ALICE",
            now=now,
        )
        if created_at is not None:
            launch.created_at = created_at
        return launch.id


async def make_due(runtime: Runtime, kind: str) -> None:
    """Time passes: pending jobs of `kind` become due now."""
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            update(Job)
            .where(Job.kind == kind, Job.status == JobStatus.PENDING)
            .values(run_at=utcnow() - timedelta(seconds=1))
        )


def dms_to(emulator: SlackEmulator, user: str) -> list[dict[str, Any]]:
    return [c.args for c in emulator.calls_to("chat.postMessage") if c.args.get("channel") == user]


def dm_message(emulator: SlackEmulator, user: str, index: int = -1) -> dict[str, Any]:
    """The bot's DM to `user` as stored in Slack (for clicking its buttons)."""
    return emulator.messages["D" + user[1:]][index]


def button(message: dict[str, Any], action_prefix: str, function_id: int | None = None) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id", "").startswith(action_prefix) and (
                function_id is None or element.get("value", "").endswith(f":{function_id}")
            ):
                return dict(element)
    raise AssertionError(
        f"no {action_prefix} button in {json.dumps(message['blocks'], ensure_ascii=False)[:500]}"
    )


async def click(
    slack: SlackSender, emulator: SlackEmulator, user: str, action_id: str, function_id: int, index: int = -1
) -> Any:
    message = dm_message(emulator, user, index)
    found = button(message, action_id, function_id)
    return await slack.block_action(
        found["action_id"], found["value"], user=user, channel="D" + user[1:], message=message
    )


async def function_ids(runtime: Runtime, launch_id: int) -> dict[str, int]:
    async with unit_of_work(runtime.session_factory) as session:
        return {f.name: f.id for f in await functions_of(session=session, launch_id=launch_id)}


async def rows(runtime: Runtime, model: Any, *where: Any) -> list[Any]:
    async with unit_of_work(runtime.session_factory) as session:
        return list((await session.scalars(select(model).where(*where))).all())


def text_of(call: dict[str, Any]) -> str:
    return json.dumps(call.get("blocks") or [], ensure_ascii=False) + str(call.get("text", ""))
