"""Signed payloads whose team fields disagree act only in the workspace Bolt authorized.

Slack puts a team in several places (`team.id`, `user.team_id`, `view.team_id`, `event.team`); in
shared channels and Enterprise Grid they differ. The app answers with the authorized workspace's
token, so that workspace's rows are the only ones it may read or write.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import launches as launch_service
from bot.launches.schema import FunctionIn, LaunchIn
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from models import Area
from models.launch import LaunchFunction

TEAM = "T0SWITCH"
OTHER = "T0OTHER"


class MixedSender(SlackSender):
    """Signed payloads that name this workspace as `team.id` but another one on the user."""

    def _user(self, user: str) -> dict[str, str]:
        return {**super()._user(user), "team_id": OTHER}


@pytest.fixture
def mixed(slack: SlackSender) -> MixedSender:
    return MixedSender(slack.http, slack.emulator, team_id=TEAM)


async def other_workspace_function(runtime: Runtime) -> LaunchFunction:
    """A launch in the other workspace whose Engineering function Alice owns."""
    async with unit_of_work(runtime.session_factory) as session:
        launch = await launch_service.create_launch(
            session=session,
            cache=runtime.area_cache,
            team_id=OTHER,
            data=LaunchIn(
                name="Their launch",
                target_date=date.today() + timedelta(days=20),
                owner="U0ALICE",
                channel="C0THEIRS",
                functions=[FunctionIn(name="Engineering", owner="U0ALICE")],
                timezone="UTC",
            ),
            default_timezone="UTC",
            created_by="U0ALICE",
        )
        function = (
            await session.scalars(select(LaunchFunction).where(LaunchFunction.launch_id == launch.id))
        ).one()
        session.expunge(function)
        return function


async def test_standup_button_cannot_change_a_function_of_the_workspace_named_on_the_user(
    mixed: MixedSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    theirs = await other_workspace_function(runtime)

    response = await mixed.block_action("launch_status:blocked", f"0:{theirs.id}", channel="D0ALICE")

    assert response.status_code == 200
    (refusal,) = await emulator.wait_for("response_url")
    assert refusal["response_type"] == "ephemeral"
    async with runtime.session_factory() as session:
        after = await session.get(LaunchFunction, theirs.id)
    assert after is not None and (after.status, after.version) == (theirs.status, theirs.version)


async def test_add_area_modal_creates_the_area_in_the_authorized_workspace_only(
    mixed: MixedSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    values = {
        "area_name": {"name": {"type": "plain_text_input", "value": "Data warehouse"}},
        "area_owner": {"owner": {"type": "users_select", "selected_user": "U0DAVE"}},
        "area_team": {"team": {"type": "plain_text_input", "value": "Data"}},
        "area_backups": {"backups": {"type": "multi_users_select", "selected_users": []}},
        "area_channel": {"channel": {"type": "channels_select", "selected_channel": None}},
        "area_aliases": {"aliases": {"type": "plain_text_input", "value": None}},
        "area_description": {"description": {"type": "plain_text_input", "value": None}},
    }

    response = await mixed.view_submission("area_create", values, private_metadata="{}")

    assert response.status_code == 200
    await emulator.wait_for("chat.postMessage")
    async with runtime.session_factory() as session:
        teams = (await session.scalars(select(Area.team_id).where(Area.slug == "data-warehouse"))).all()
    assert list(teams) == [TEAM]


async def test_mention_naming_another_team_answers_from_this_directory(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        for team, owner in ((TEAM, "U0BOB"), (OTHER, "U0EVE")):
            await area_service.create_area(
                session=session, team_id=team, data=AreaIn(name="Billing", owner=owner, team="Payments")
            )
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@U0SWITCHBOT> who owns billing?",
        "ts": "1700000100.000300",
        "channel": "C0GENERAL",
        "event_ts": "1700000100.000300",
        "team": OTHER,
    }

    assert (await slack.event(event)).status_code == 200

    (reply,) = await emulator.wait_for("chat.postMessage")
    shown = json.dumps(reply["blocks"]) + reply["text"]
    assert "<@U0BOB>" in shown and "U0EVE" not in shown
