"""Who may do what, end to end: every launch and area command, button and modal submission from
Slack, clicked by each kind of person. Allowed changes what it should; refused answers with a
message naming who may, changes no row and posts nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import gonogo as launch_gonogo
from bot.launches.schema import FunctionIn
from bot.launches.views.matrix import LaunchId
from bot.launches.views.modals import NoteMetadata, VoteMetadata
from bot.launches.views.standup import answer_value
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from bot.ownership.views.freshness import HandOverMetadata, OwnershipId
from models import Area, Job
from models.base import utcnow
from models.launch import (
    GoNoGoDecision,
    GoNoGoVote,
    Launch,
    LaunchFunction,
    StandupResponse,
    StandupRun,
    Vote,
)
from tests.helpers import rendered
from tests.standup_helpers import LAUNCH_CHANNEL, TEAM, make_launch
from tests.test_home import home_opened

LAUNCH_OWNER, FUNCTION_OWNER = "U0ALICE", "U0BOB"
AREA_OWNER, BACKUP, NEW_OWNER = "U0AREA", "U0BACKUP", "U0CAROL"
SLACK_ADMIN, CONFIGURED_ADMIN, MEMBER = "U0SLACKADM", "U0CONFADM", "U0OTHER"

PEOPLE = {
    "launch owner": LAUNCH_OWNER,
    "function owner": FUNCTION_OWNER,
    "area owner": AREA_OWNER,
    "area backup": BACKUP,
    "Slack admin": SLACK_ADMIN,
    "SWITCHBOARD_ADMINS": CONFIGURED_ADMIN,
    "other member": MEMBER,
}
ADMINS = {"Slack admin", "SWITCHBOARD_ADMINS"}

ANSWER_REFUSAL = (
    "Only its owner <@U0BOB> and the launch owner <@U0ALICE> can answer for *Engineering* in *Checkout v2*."
)
VOTE_REFUSAL = "Only the function owners of *Checkout v2* vote on go/no-go: <@U0BOB>."
RUN_REFUSAL = (
    "Only the launch owner <@U0ALICE> and a workspace admin can change *Checkout v2* "
    "or start its standups and go/no-go votes."
)
AREA_REFUSAL = (
    "Only its owner <@U0AREA>, its backup <@U0BACKUP> and a workspace admin can confirm, hand over, "
    "disown, edit or delete *Billing*."
)
# What Slack would show or post besides the answer to the person who clicked.
VISIBLE = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"switchboard_admins": CONFIGURED_ADMIN}


@dataclass
class World:
    launch_id: int
    function_id: int
    area_id: int
    decision_id: int | None = None


@pytest.fixture
async def world(runtime: Runtime, emulator: SlackEmulator) -> World:
    emulator.add_user(AREA_OWNER, "area")
    emulator.add_user(BACKUP, "backup")
    emulator.add_user(SLACK_ADMIN, "slackadmin", is_admin=True)
    emulator.add_user(CONFIGURED_ADMIN, "confadmin")
    emulator.add_user(MEMBER, "other")
    launch_id = await make_launch(
        runtime, emulator, functions=[FunctionIn(name="Engineering", owner=FUNCTION_OWNER)]
    )
    async with unit_of_work(runtime.session_factory) as session:
        (function_id,) = (
            await session.scalars(select(LaunchFunction.id).where(LaunchFunction.launch_id == launch_id))
        ).all()
        area = await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Billing", owner=AREA_OWNER, backups=[BACKUP])
        )
        area.last_confirmed_at = utcnow() - timedelta(days=100)
        area_id = area.id
    return World(launch_id=launch_id, function_id=function_id, area_id=area_id)


async def open_decision(runtime: Runtime, world: World) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        launch = await session.get(Launch, world.launch_id)
        assert launch is not None
        world.decision_id = (
            await launch_gonogo.open_vote(session=session, launch=launch, by=LAUNCH_OWNER)
        ).id


async def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a launch or area action could write."""
    models = (Area, Launch, LaunchFunction, StandupRun, StandupResponse, GoNoGoDecision, GoNoGoVote, Job)
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with unit_of_work(runtime.session_factory) as session:
        for model in models:
            columns = list(model.__table__.columns)
            result = await session.execute(select(*columns).order_by(*model.__table__.primary_key.columns))
            state[model.__tablename__] = [tuple(row) for row in result.all()]
    return state


async def changes(runtime: Runtime, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Whether the rows change within a few seconds (a listener works on after its ack)."""
    for _ in range(50):
        if await snapshot(runtime) != before:
            return True
        await asyncio.sleep(0.1)
    return False


Act = Callable[[SlackSender, World, str], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str]
    refusal: str
    act: Act
    # How a refusal reaches the person: "ephemeral" (response_url), "modal" (errors) or "command".
    answered: str
    # What an allowed action does: "db" (rows change) or "modal" (a modal opens).
    effect: str = "db"
    needs_vote: bool = False


def _status(status: str) -> Act:
    async def act(slack: SlackSender, world: World, user: str) -> httpx.Response:
        return await slack.block_action(
            f"{LaunchId.STATUS}:{status}", answer_value(None, world.function_id), user=user, channel="D0X"
        )

    return act


async def _open_note(slack: SlackSender, world: World, user: str) -> httpx.Response:
    return await slack.block_action(LaunchId.NOTE, answer_value(None, world.function_id), user=user)


async def _submit_note(slack: SlackSender, world: World, user: str) -> httpx.Response:
    return await slack.view_submission(
        LaunchId.NOTE_MODAL,
        {
            LaunchId.NOTE_BLOCK: {
                LaunchId.NOTE_INPUT: {"type": "plain_text_input", "value": "Waiting on legal"}
            }
        },
        user=user,
        private_metadata=NoteMetadata(function_id=world.function_id).model_dump_json(),
    )


async def _open_vote(slack: SlackSender, world: World, user: str) -> httpx.Response:
    return await slack.block_action(
        f"{LaunchId.VOTE}:{Vote.GO}", str(world.decision_id), user=user, channel=LAUNCH_CHANNEL
    )


async def _submit_vote(slack: SlackSender, world: World, user: str) -> httpx.Response:
    assert world.decision_id is not None
    return await slack.view_submission(
        LaunchId.VOTE_MODAL,
        {LaunchId.REASON_BLOCK: {LaunchId.REASON: {"type": "plain_text_input", "value": "All green"}}},
        user=user,
        private_metadata=VoteMetadata(decision_id=world.decision_id, vote=Vote.GO).model_dump_json(),
    )


def _launch(sub: str) -> Act:
    async def act(slack: SlackSender, world: World, user: str) -> httpx.Response:
        return await slack.command("/launch", f"{sub} checkout", user=user)

    return act


def _area_button(action_id: str) -> Act:
    async def act(slack: SlackSender, world: World, user: str) -> httpx.Response:
        return await slack.block_action(action_id, str(world.area_id), user=user, channel="D0X")

    return act


async def _submit_hand_over(slack: SlackSender, world: World, user: str) -> httpx.Response:
    metadata = HandOverMetadata(area_id=world.area_id, owner=AREA_OWNER)
    return await slack.view_submission(
        OwnershipId.HAND_OVER_MODAL,
        {
            OwnershipId.NEW_OWNER_BLOCK: {
                OwnershipId.NEW_OWNER: {"type": "users_select", "selected_user": NEW_OWNER}
            }
        },
        user=user,
        private_metadata=metadata.model_dump_json(),
    )


ANSWERERS = frozenset({"launch owner", "function owner"})
VOTERS = frozenset({"function owner"})
RUNNERS = frozenset({"launch owner", *ADMINS})
AREA_PEOPLE = frozenset({"area owner", "area backup", *ADMINS})

CASES = {
    "standup answer button": Case(ANSWERERS, ANSWER_REFUSAL, _status("done"), "ephemeral"),
    "Blocked answer button": Case(ANSWERERS, ANSWER_REFUSAL, _status("blocked"), "ephemeral"),
    "Add note button": Case(ANSWERERS, ANSWER_REFUSAL, _open_note, "ephemeral", effect="modal"),
    "note modal submission": Case(ANSWERERS, ANSWER_REFUSAL, _submit_note, "modal"),
    "Go button": Case(VOTERS, VOTE_REFUSAL, _open_vote, "ephemeral", effect="modal", needs_vote=True),
    "vote modal submission": Case(VOTERS, VOTE_REFUSAL, _submit_vote, "modal", needs_vote=True),
    "/launch standup": Case(RUNNERS, RUN_REFUSAL, _launch("standup"), "command"),
    "/launch gonogo": Case(RUNNERS, RUN_REFUSAL, _launch("gonogo"), "command"),
    "Yes, still mine button": Case(AREA_PEOPLE, AREA_REFUSAL, _area_button(OwnershipId.CONFIRM), "ephemeral"),
    "Not me button": Case(AREA_PEOPLE, AREA_REFUSAL, _area_button(OwnershipId.NOT_ME), "ephemeral"),
    "Hand over button": Case(
        AREA_PEOPLE, AREA_REFUSAL, _area_button(OwnershipId.HAND_OVER), "ephemeral", effect="modal"
    ),
    "hand-over modal submission": Case(AREA_PEOPLE, AREA_REFUSAL, _submit_hand_over, "modal"),
}


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("action", list(CASES))
async def test_launch_and_area_actions_from_slack_follow_the_policy(
    runtime: Runtime, emulator: SlackEmulator, slack: SlackSender, world: World, action: str, who: str
) -> None:
    case = CASES[action]
    if case.needs_vote:
        await open_decision(runtime, world)
    before = await snapshot(runtime)
    mark = len(emulator.calls)

    response = await case.act(slack, world, PEOPLE[who])

    assert response.status_code == 200
    if who in case.allowed:
        if case.answered == "modal":
            assert not response.content or "errors" not in response.json(), response.text
        if case.effect == "modal":
            await emulator.wait_for("views.open")
        else:
            assert await changes(runtime, before), f"{who}: {action} changed nothing"
        return

    if case.answered == "modal":
        answer = response.json()
        assert answer["response_action"] == "errors"
        assert case.refusal in " ".join(answer["errors"].values())
    elif case.answered == "command":
        answer = response.json()
        assert answer["response_type"] == "ephemeral"
        assert answer["text"] == f":warning: {case.refusal}"
        assert case.refusal in rendered(answer.get("blocks") or []) or "blocks" not in answer
    else:
        (reply,) = await emulator.wait_for("response_url")
        assert reply["response_type"] == "ephemeral" and reply.get("replace_original") is False
        assert reply["text"] == f":warning: {case.refusal}"
    assert await snapshot(runtime) == before, f"{who}: refused {action} changed rows"
    shown = [c.method for c in emulator.calls[mark:] if c.method in VISIBLE]
    assert shown == [], f"{who}: refused {action} still called {shown}"


async def test_home_shows_answer_buttons_only_to_whoever_may_answer(
    slack: SlackSender, emulator: SlackEmulator, world: World
) -> None:
    for user in PEOPLE.values():
        await slack.event(home_opened(user))
    published = await emulator.wait_for("views.publish", len(PEOPLE))
    buttons = {
        call["user_id"]: [
            element["value"]
            for block in call["view"]["blocks"]
            for element in block.get("elements", [])
            if str(element.get("action_id", "")).startswith((LaunchId.STATUS, LaunchId.NOTE))
        ]
        for call in published
    }
    owned = buttons.pop(FUNCTION_OWNER)
    assert owned and all(value.endswith(f":{world.function_id}") for value in owned)
    assert not any(buttons.values()), buttons


async def test_launch_status_answer_carries_no_buttons(slack: SlackSender, world: World) -> None:
    answer = (await slack.command("/launch", "status checkout", user=MEMBER)).json()
    assert answer["response_type"] == "ephemeral" and "Checkout v2" in answer["text"]
    assert [b for b in answer["blocks"] if b["type"] == "actions"] == []
    assert not any("accessory" in b and b["accessory"].get("type") == "button" for b in answer["blocks"])


MUTATING = ("post", "put", "patch", "delete")


async def test_every_admin_api_mutation_takes_an_admin_token_and_refuses_none(
    app: Any, http: httpx.AsyncClient
) -> None:
    """An admin-API token acts as a workspace admin: no mutation answers 401 or 403 to it."""
    operations = [
        (method, path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in item
        if method in MUTATING
    ]
    assert len(operations) >= 5
    for method, path in operations:
        url = re.sub(r"\{[^}]+\}", "999999", path)
        anonymous = await http.request(method.upper(), url, json={})
        assert anonymous.status_code == 401, (method, path)
        admin = await http.request(
            method.upper(), url, json={}, headers={"Authorization": "Bearer test-admin-token"}
        )
        assert admin.status_code not in (401, 403, 500), (method, path, admin.status_code, admin.text)
