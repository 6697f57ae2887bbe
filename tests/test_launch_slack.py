"""/launch, the New launch shortcut and its modal, and go/no-go votes, through signed requests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches.gonogo import POST_KIND
from bot.ownership.areas import create_area
from bot.ownership.schema import AreaIn
from models import Job
from models.launch import GoNoGoDecision, GoNoGoVote, Launch, LaunchFunction
from tests.test_standups import LAUNCH_CHANNEL, TEAM, make_launch

# Dates are counted from this clock (a Wednesday), so that the tests read the same on any day.
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)
TARGET = NOW.date() + timedelta(days=30)
pytestmark = pytest.mark.time_machine(NOW, tick=True)


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def step_one_values(
    *,
    name: str = "Checkout v2",
    target: date = TARGET,
    functions: str = "Engineering\nQA\nDocs",
    **extra: Any,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "launch_name": {"name": {"type": "plain_text_input", "value": name}},
        "launch_target": {"target_date": {"type": "datepicker", "selected_date": target.isoformat()}},
        "launch_owner": {"owner": {"type": "users_select", "selected_user": "U0ALICE"}},
        "launch_channel": {"channel": {"type": "conversations_select", "selected_conversation": None}},
        "launch_template": {"template": {"type": "static_select", "selected_option": {"value": "standard"}}},
        "launch_functions": {"functions": {"type": "plain_text_input", "value": functions}},
        "launch_days": {
            "days": {"type": "checkboxes", "selected_options": [{"value": str(d)} for d in (1, 2, 3, 4, 5)]}
        },
        "launch_time": {"time": {"type": "timepicker", "selected_time": "09:30"}},
        "launch_timezone": {"timezone": {"type": "plain_text_input", "value": "Europe/Berlin"}},
        "launch_country": {"country": {"type": "plain_text_input", "value": "DE"}},
    }
    values.update(extra)
    return values


async def load_launch(runtime: Runtime, slug: str) -> tuple[Launch, list[LaunchFunction]]:
    async with unit_of_work(runtime.session_factory) as session:
        launch = await session.scalar(select(Launch).where(Launch.slug == slug))
        assert launch is not None
        functions = (
            await session.scalars(
                select(LaunchFunction)
                .where(LaunchFunction.launch_id == launch.id)
                .order_by(LaunchFunction.position)
            )
        ).all()
        return launch, list(functions)


async def test_creation_modal_guesses_owners_creates_channel_and_invites(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await create_area(session=session, team_id=TEAM, data=AreaIn(name="Documentation", owner="U0DAVE"))
        await create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Quality assurance", owner="U0CAROL")
        )
    await slack.command("/launch", "new")
    (opened,) = await emulator.wait_for("views.open")
    view = opened["view"]
    (view_id,) = emulator.views
    assert view["callback_id"] == "launch_create"
    assert "Europe/Berlin" in dump(view["blocks"])  # Alice's own timezone from users.info
    assert "Sales enablement" in dump(view["blocks"])  # the default template

    step_two = await slack.view_submission(
        "launch_create", step_one_values(), private_metadata=view["private_metadata"], view_id=view_id
    )
    body = step_two.json()
    assert body["response_action"] == "update" and body["view"]["callback_id"] == "launch_create_owners"
    owner_blocks = [b for b in body["view"]["blocks"] if b["type"] == "input"]
    assert [b["label"]["text"] for b in owner_blocks] == ["Engineering", "QA", "Docs"]
    assert owner_blocks[1]["element"].get("initial_user") == "U0CAROL"  # QA → Quality assurance
    assert owner_blocks[2]["element"].get("initial_user") == "U0DAVE"  # Docs → Documentation
    assert "initial_user" not in owner_blocks[0]["element"]

    owners = {
        "launch_fn_owner:0": {"function_owner": {"type": "users_select", "selected_user": "U0BOB"}},
        "launch_fn_owner:1": {"function_owner": {"type": "users_select", "selected_user": "U0CAROL"}},
        "launch_fn_owner:2": {"function_owner": {"type": "users_select", "selected_user": "U0DAVE"}},
    }
    done = await slack.view_submission(
        "launch_create_owners", owners, private_metadata=body["view"]["private_metadata"], view_id=view_id
    )
    assert done.json()["response_action"] == "update"
    (final,) = await emulator.wait_for("views.update")
    assert "Created *Checkout v2*" in dump(final["view"]["blocks"])

    (created,) = emulator.calls_to("conversations.create")
    assert created["name"] == "launch-checkout-v2"
    channel = next(c for c in emulator.channels.values() if c["name"] == "launch-checkout-v2")
    assert {"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"} <= set(channel["members"])
    (intro,) = emulator.calls_to("chat.postMessage", channel=channel["id"])
    assert "This channel tracks the launch" in dump(intro["blocks"])

    launch, functions = await load_launch(runtime, "checkout-v2")
    assert (launch.channel, launch.owner, launch.timezone, launch.standup_time) == (
        channel["id"],
        "U0ALICE",
        "Europe/Berlin",
        "09:30",
    )
    assert launch.holiday_country == "DE" and launch.target_date == TARGET
    assert [(f.name, f.owner, f.area_slug) for f in functions] == [
        ("Engineering", "U0BOB", None),
        ("QA", "U0CAROL", "quality-assurance"),
        ("Docs", "U0DAVE", "documentation"),
    ]


async def test_global_shortcut_opens_the_creation_modal(slack: SlackSender, emulator: SlackEmulator) -> None:
    response = await slack.global_shortcut("new_launch", user="U0BOB")
    assert response.status_code == 200
    (opened,) = await emulator.wait_for("views.open")
    assert opened["view"]["callback_id"] == "launch_create"
    assert '"initial_user": "U0BOB"' in dump(opened["view"]["blocks"])


async def test_creation_modal_refuses_past_date_bad_timezone_and_country(
    slack: SlackSender, runtime: Runtime
) -> None:
    values = step_one_values(target=date.today() - timedelta(days=3))
    values["launch_timezone"] = {"timezone": {"type": "plain_text_input", "value": "Europe/Berlin"}}
    values["launch_country"] = {"country": {"type": "plain_text_input", "value": "Narnia"}}
    body = (await slack.view_submission("launch_create", values)).json()
    assert body["response_action"] == "errors"
    assert "in the past" in body["errors"]["launch_target"]
    assert "ISO country code" in body["errors"]["launch_country"]

    values = step_one_values(launch_timezone={"timezone": {"type": "plain_text_input", "value": "Moon/Base"}})
    body = (await slack.view_submission("launch_create", values)).json()
    assert "Unknown timezone" in body["errors"]["launch_timezone"]


async def test_creation_modal_refuses_a_taken_name(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await make_launch(runtime, emulator)
    body = (await slack.view_submission("launch_create", step_one_values())).json()
    assert body["response_action"] == "errors" and "already exists" in body["errors"]["launch_name"]


@pytest.mark.parametrize("text", ["", "help", "HELP"])
async def test_help_answers_usage_ephemerally(slack: SlackSender, text: str) -> None:
    body = (await slack.command("/launch", text)).json()
    assert body["response_type"] == "ephemeral" and "/launch status <launch>" in dump(body["blocks"])


async def test_unknown_subcommand_answers_usage(slack: SlackSender) -> None:
    body = (await slack.command("/launch", "explode <!channel>")).json()
    assert body["response_type"] == "ephemeral"
    assert "I don't know `/launch explode" in body["text"] and "/launch gonogo" in dump(body["blocks"])


async def test_list_and_status_with_fuzzy_lookup(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await make_launch(runtime, emulator)
    await make_launch(
        runtime, emulator, name="Mobile offline mode", target_date=date.today() + timedelta(days=5)
    )
    answer = (await slack.command("/launch", "list")).json()
    assert answer["text"] == "2 live launches"
    listed = dump(answer["blocks"])
    assert listed.index("Mobile offline mode") < listed.index("Checkout v2")  # soonest first
    assert "5 days to launch" in listed

    for query in ("checkout-v2", "Checkout v2", "chekout", "CHECKOUT"):
        body = (await slack.command("/launch", f"status {query}")).json()
        text = dump(body["blocks"])
        assert "*Checkout v2*" in text, query
        assert "*Readiness:* 0/100" in text and "<@U0BOB>" in text and "Not started" in text

    body = (await slack.command("/launch", "status quantum")).json()
    assert body["response_type"] == "ephemeral" and "No launch matches `quantum`" in body["text"]


async def test_gonogo_vote_with_non_owner_and_all_go_makes_launch_ready(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    answer = (await slack.command("/launch", "gonogo checkout")).json()
    assert "Opened a go/no-go vote" in answer["text"] and "voters: 3 function owners" in answer["text"]
    await run_jobs()
    (vote_post,) = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)
    assert "Go/no-go for Checkout v2" in dump(vote_post["blocks"])
    message = emulator.messages[LAUNCH_CHANNEL][-1]
    go = next(
        e for b in message["blocks"] for e in b.get("elements", []) if e.get("action_id") == "launch_vote:go"
    )

    # Alice owns the launch but no function: she may not vote, and is told why.
    await slack.block_action(
        go["action_id"], go["value"], user="U0ALICE", channel=LAUNCH_CHANNEL, message=message
    )
    (explanation,) = await emulator.wait_for("response_url")
    assert explanation["response_type"] == "ephemeral"
    assert "Only the function owners of *Checkout v2* vote" in explanation["text"]
    assert not emulator.calls_to("views.open")

    for count, voter in enumerate(("U0BOB", "U0CAROL", "U0DAVE"), start=1):
        await slack.block_action(
            go["action_id"], go["value"], user=voter, channel=LAUNCH_CHANNEL, message=message
        )
        opened = (await emulator.wait_for("views.open", count))[-1]
        values = {
            "launch_vote_reason": {"reason": {"type": "plain_text_input", "value": f"{voter} is ready"}}
        }
        result = await slack.view_submission(
            "launch_vote_modal", values, user=voter, private_metadata=opened["view"]["private_metadata"]
        )
        assert result.status_code == 200
        await emulator.wait_for("chat.update", count)
    last_update = emulator.calls_to("chat.update")[-1]
    assert last_update["ts"] == message["ts"] and "U0DAVE is ready" in dump(last_update["blocks"])
    assert "launch_vote:go" not in dump(last_update["blocks"])  # closed: no more buttons

    await run_jobs()
    announcement = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1]
    # Everyone said Go while nothing is done: the result says so instead of "is ready".
    assert "Result: Go" in announcement["text"] and "is ready" not in announcement["text"]
    assert "Readiness is 0/100: Engineering, QA and Docs are not done" in announcement["text"]
    async with unit_of_work(runtime.session_factory) as session:
        launch = await session.get(Launch, launch_id)
        decision = await session.scalar(select(GoNoGoDecision).where(GoNoGoDecision.launch_id == launch_id))
        votes = (await session.scalars(select(GoNoGoVote))).all()
        assert launch is not None and launch.status == "ready"
        assert decision is not None and (decision.status, decision.result) == ("decided", "go")
        assert sorted(v.voter for v in votes) == ["U0BOB", "U0CAROL", "U0DAVE"]

    # A late click after the result is explained, not counted.
    await slack.block_action(
        go["action_id"], go["value"], user="U0BOB", channel=LAUNCH_CHANNEL, message=message
    )
    late = (await emulator.wait_for("response_url", 2))[-1]
    assert "closed" in late["text"] and "Go" in late["text"]


async def test_one_no_go_records_no_go_and_puts_launch_at_risk(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(runtime, emulator)
    await slack.command("/launch", "gonogo checkout")
    await run_jobs()
    message = emulator.messages[LAUNCH_CHANNEL][-1]
    decision_id = message["blocks"][-2]["elements"][0]["value"]
    for voter, vote, reason in (
        ("U0BOB", "go", "code frozen"),
        ("U0CAROL", "no_go", "two <!here> P1 bugs open"),
        ("U0DAVE", "go", "docs live"),
    ):
        metadata = json.dumps({"decision_id": int(decision_id), "vote": vote})
        values = {"launch_vote_reason": {"reason": {"type": "plain_text_input", "value": reason}}}
        await slack.view_submission("launch_vote_modal", values, user=voter, private_metadata=metadata)
    await emulator.wait_for("chat.update", 3)
    await run_jobs()
    announcement = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1]
    assert "Result: No-go" in announcement["text"] and "<@U0CAROL>" in announcement["text"]
    assert "<!here>" not in dump(emulator.calls_to("chat.update")[-1]["blocks"])
    async with unit_of_work(runtime.session_factory) as session:
        launch = await session.get(Launch, launch_id)
        assert launch is not None and launch.status == "at_risk"


async def test_vote_without_reason_is_refused(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator)
    await slack.command("/launch", "gonogo checkout")
    await run_jobs()
    decision_id = emulator.messages[LAUNCH_CHANNEL][-1]["blocks"][-2]["elements"][0]["value"]
    values = {"launch_vote_reason": {"reason": {"type": "plain_text_input", "value": "   "}}}
    metadata = json.dumps({"decision_id": int(decision_id), "vote": "go"})
    body = (
        await slack.view_submission("launch_vote_modal", values, user="U0BOB", private_metadata=metadata)
    ).json()
    assert body["response_action"] == "errors" and "Say why" in body["errors"]["launch_vote_reason"]


async def test_second_gonogo_while_one_is_open_is_refused(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await make_launch(runtime, emulator)
    await slack.command("/launch", "gonogo checkout")
    body = (await slack.command("/launch", "gonogo checkout")).json()
    assert "already open" in body["text"]


async def test_gonogo_opens_automatically_days_before_target(
    emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator, target_date=date.today() + timedelta(days=1), gonogo_days_before=2)
    await make_launch(runtime, emulator, name="Later launch", target_date=date.today() + timedelta(days=9))
    await run_jobs()
    await run_jobs()
    async with unit_of_work(runtime.session_factory) as session:
        decisions = (await session.scalars(select(GoNoGoDecision))).all()
        jobs = (await session.scalars(select(Job).where(Job.kind == POST_KIND))).all()
    assert [(d.trigger, d.round) for d in decisions] == [("schedule", 1)]
    assert len(jobs) == 1
    (post,) = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)
    assert "Go/no-go for Checkout v2" in dump(post["blocks"])


async def test_app_home_shows_my_launches_and_pending_signoffs_with_buttons(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    launch_id = await make_launch(runtime, emulator)
    event = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home", "event_ts": "1.2"}
    assert (await slack.event(event)).status_code == 200
    (published,) = await emulator.wait_for("views.publish")
    home = dump(published["view"]["blocks"])
    assert "My launches" in home and "*Checkout v2*" in home and "sign-off" in home
    assert "My pending sign-offs" in home and "*Engineering* for *Checkout v2*" in home
    view = {"id": "VHU0BOB", "type": "home", "blocks": published["view"]["blocks"]}
    done = next(
        e
        for b in published["view"]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "launch_status:done"
    )
    await slack.block_action(done["action_id"], done["value"], user="U0BOB", view=view)
    republished = (await emulator.wait_for("views.publish", 2))[-1]
    assert "Nothing waiting for you" in dump(republished["view"]["blocks"])
    async with unit_of_work(runtime.session_factory) as session:
        function = await session.scalar(
            select(LaunchFunction).where(
                LaunchFunction.launch_id == launch_id, LaunchFunction.owner == "U0BOB"
            )
        )
        assert function is not None and function.status == "done"
