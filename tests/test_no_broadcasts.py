"""User text that tries to ping: `<!here>`, `<!channel>`, `@everyone`, a user group and another
person, typed into every place Switchboard echoes it. What Slack receives (the `text` fallback,
blocks, views) never notifies anyone; the broadcast scan in conftest checks every call as well."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.core.text import escape_mrkdwn, strip_broadcasts
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.emulator.state import BOT_USER_ID, Call
from bot.feedback.capture import capture
from bot.feedback.schema import FeedbackIn
from bot.launches import standups
from bot.launches.schema import FunctionIn
from bot.ownership import areas as area_service
from bot.ownership.schema import AreaIn
from tests.helpers import broadcasts_in, rendered
from tests.standup_helpers import LAUNCH_CHANNEL, SATURDAY, click, dms_to, function_ids, make_due, make_launch
from tests.test_release_posting import add_channels, post_now

TEAM = "T0SWITCH"
PINGS = "<!here> <!channel> @everyone <!subteam^S123> <@U0OTHER>"
RAW = ("<!here", "<!channel", "@everyone", "<!subteam", "<@U0OTHER>")


def assert_no_pings(*calls: Any) -> None:
    """What these calls (or ack bodies) show, the `text` fallback and blocks, pings nobody."""
    for call in calls:
        args = call.args if isinstance(call, Call) else call
        attachments = args.get("attachments") or []
        shown = "\n".join(
            [str(args.get("text") or ""), rendered(args.get("blocks")), rendered(args.get("view"))]
            + [str(a.get(k, "")) for a in attachments for k in ("text", "fallback", "pretext", "title")]
        )
        assert not [raw for raw in RAW if raw in shown], shown
        assert not broadcasts_in(args), args


async def add_area(runtime: Runtime, **fields: Any) -> str:
    async with unit_of_work(runtime.session_factory) as session:
        area = await area_service.create_area(session=session, team_id=TEAM, data=AreaIn(**fields))
        return area.slug


# ---- the escaping itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "<!here>",
        "<!HERE|here>",
        "<!channel>",
        "<!everyone>",
        "<!subteam^S123>",
        "<!subteam^S123|@team>",
        "@here",
        "@Channel!",
        "(@everyone)",
        "mail@here",
        "<!here",
        "\x00<!channel>\x00",
    ],
)
def test_escaped_user_text_never_carries_a_broadcast(typed: str) -> None:
    assert broadcasts_in(escape_mrkdwn(typed)) == []
    assert broadcasts_in(strip_broadcasts(typed)) == []
    assert "\x00" not in escape_mrkdwn(typed) + strip_broadcasts(typed)


def test_escaping_neutralises_user_mentions_and_markup_but_keeps_the_words() -> None:
    escaped = escape_mrkdwn("Tom & Jerry <@U0OTHER> <#C1> <https://x.test|click> @here")
    assert escaped.startswith("Tom &amp; Jerry &lt;@U0OTHER&gt; &lt;#C1&gt; &lt;https://x.test|click&gt;")
    assert "<" not in escaped and "here" in escaped
    assert strip_broadcasts("<@U0BOB> said <!here>") == "<@U0BOB> said @\u2060here"


def test_the_scan_finds_broadcasts_in_any_nested_string() -> None:
    payload = {"text": "ok", "blocks": [{"elements": [{"text": {"text": "hi <!here>"}}]}], "n": 3}
    (hit,) = broadcasts_in(payload)
    assert hit.startswith(".blocks[0].elements[0].text.text: '<!here'")
    assert broadcasts_in({"view": {"title": {"text": "@channel"}}, "alt": "@everyone"}) != []
    assert broadcasts_in({"text": "<@U0BOB> <#C1> <!date^1^{date}|d> a@example.com"}) == []


# ---- /whoowns and mentions --------------------------------------------------------------------


async def test_whoowns_query_and_no_owner_found_answer_cannot_ping(slack: SlackSender) -> None:
    body = (await slack.command("/whoowns", f"{PINGS} zzqx")).json()
    assert body["text"].startswith("I couldn't find an owner for") and "zzqx" in body["text"]
    assert "&lt;@U0OTHER&gt;" in body["text"] and "zzqx" in rendered(body["blocks"])
    assert_no_pings(body)


async def test_ambiguous_whoowns_answer_cannot_ping(slack: SlackSender, runtime: Runtime) -> None:
    await add_area(runtime, name="Bulk export <!channel>", owner="U0BOB")
    await add_area(runtime, name="Bulk import @here", owner="U0CAROL")
    body = (await slack.command("/whoowns", "bulk")).json()
    assert "Several areas match" in body["text"]
    assert_no_pings(body)


async def test_mention_answer_in_a_public_thread_cannot_ping(
    slack: SlackSender, emulator: SlackEmulator
) -> None:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": f"<@{BOT_USER_ID}> who owns {PINGS} zzqx?",
        "ts": "1700000000.000200",
        "channel": "C0GENERAL",
        "event_ts": "1700000000.000200",
    }
    await slack.event(event)
    (answer,) = await emulator.wait_for("chat.postMessage")
    assert answer["thread_ts"] == "1700000000.000200" and "couldn't find an owner" in answer["text"]
    assert_no_pings(answer)


async def test_share_in_channel_cannot_ping(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await add_area(
        runtime, name=f"Billing {PINGS}", owner="U0BOB", team="Pay @channel", description="Ask <!here>"
    )
    body = (await slack.command("/whoowns", "billing")).json()
    assert_no_pings(body)
    share = next(
        e for b in body["blocks"] for e in b.get("elements", []) if e.get("action_id") == "whoowns_share"
    )
    await slack.block_action(share["action_id"], share["value"])
    shared, _deleted = await emulator.wait_for("response_url", 2)
    assert shared["response_type"] == "in_channel" and "is owned by <@U0BOB>" in shared["text"]
    assert_no_pings(shared)


# ---- launches -----------------------------------------------------------------------------------


@pytest.mark.time_machine(SATURDAY, tick=True)
async def test_standup_prompts_answers_and_summary_cannot_ping(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    launch_id = await make_launch(
        runtime,
        emulator,
        name="Checkout <!here>",
        functions=[
            FunctionIn(name="Engineering @everyone", owner="U0BOB", note="Frozen <!channel>"),
            FunctionIn(name="QA <!subteam^S123>", owner="U0CAROL"),
            FunctionIn(name="Docs <@U0OTHER>", owner="U0DAVE"),
        ],
    )
    ids = await function_ids(runtime, launch_id)
    started = (await slack.command("/launch", "standup checkout")).json()
    assert_no_pings(started)
    await run_jobs()
    for user in ("U0BOB", "U0CAROL", "U0DAVE"):
        (prompt,) = dms_to(emulator, user)
        assert "Readiness standup" in prompt["text"] or "Readiness standup" in rendered(prompt["blocks"])
        assert_no_pings(prompt)

    await click(slack, emulator, "U0CAROL", "launch_status:blocked", ids["QA <!subteam^S123>"])
    await click(slack, emulator, "U0DAVE", "launch_note", ids["Docs <@U0OTHER>"])
    opened = (await emulator.wait_for("views.open"))[-1]
    values = {"launch_note_text": {"note": {"type": "plain_text_input", "value": f"Late {PINGS}"}}}
    await slack.view_submission(
        "launch_note_modal", values, user="U0DAVE", private_metadata=opened["view"]["private_metadata"]
    )
    await make_due(runtime, standups.REMINDER_KIND)
    await run_jobs()
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()
    (summary,) = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)
    assert "Checkout" in summary["text"]
    sent = [c for c in emulator.calls if c.method in {"chat.postMessage", "chat.update", "response_url"}]
    assert_no_pings(*sent, opened)


async def test_launch_status_cannot_ping(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await make_launch(
        runtime,
        emulator,
        name="Orion <!channel>",
        functions=[FunctionIn(name="QA @here", owner="U0CAROL", note=f"Env down {PINGS}", status="blocked")],
    )
    body = (await slack.command("/launch", "status orion")).json()
    assert "Orion" in body["text"] + rendered(body["blocks"]) and "Env down" in rendered(body["blocks"])
    assert_no_pings(body)
    listed = (await slack.command("/launch", "list")).json()
    assert_no_pings(listed)


async def test_gonogo_vote_reason_cannot_ping(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await make_launch(runtime, emulator, name="Vega @channel", target_date=date.today() + timedelta(days=30))
    await slack.command("/launch", "gonogo vega")
    await run_jobs()
    message = emulator.messages[LAUNCH_CHANNEL][-1]
    decision_id = int(message["blocks"][-2]["elements"][0]["value"])
    for voter, vote in (("U0BOB", "go"), ("U0CAROL", "no_go"), ("U0DAVE", "go")):
        metadata = json.dumps({"decision_id": decision_id, "vote": vote})
        values = {"launch_vote_reason": {"reason": {"type": "plain_text_input", "value": f"{voter} {PINGS}"}}}
        await slack.view_submission("launch_vote_modal", values, user=voter, private_metadata=metadata)
    updates = await emulator.wait_for("chat.update", 3)
    assert "U0CAROL" in rendered(updates[-1]["blocks"])
    await run_jobs()
    result = emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL)[-1]
    assert "Result: No-go" in result["text"]
    assert_no_pings(*updates, result, *emulator.calls_to("chat.postMessage"))


# ---- releases and App Home -------------------------------------------------------------------------


async def test_release_announcement_keeps_no_broadcast_from_its_author(
    emulator: SlackEmulator, api: httpx.AsyncClient, run_jobs: Any
) -> None:
    """SPEC: messages the bot writes never let user text ping; an approved announcement included."""
    add_channels(emulator, "C0RELEASES")
    await post_now(
        api,
        title="Audit <!channel>",
        summary="@here every admin action <!subteam^S123>",
        notes=f"- Search it {PINGS}\n- Export @everyone",
        channels=["C0RELEASES"],
    )
    await run_jobs()
    (post,) = emulator.calls_to("chat.postMessage", channel="C0RELEASES")
    assert "Audit" in post["text"] and "Export" in rendered(post["blocks"])
    assert_no_pings(*emulator.calls_to("chat.postMessage"), *emulator.calls_to("chat.update"))


async def test_app_home_cannot_ping(slack: SlackSender, emulator: SlackEmulator, runtime: Runtime) -> None:
    slug = await add_area(runtime, name=f"Billing {PINGS}", owner="U0BOB", team="<!here>")
    await make_launch(
        runtime,
        emulator,
        name="Lyra <!everyone>",
        owner="U0BOB",
        functions=[FunctionIn(name="QA <!here>", owner="U0BOB", note="@channel")],
    )
    async with unit_of_work(runtime.session_factory) as session:
        await capture(
            session=session,
            team_id=TEAM,
            data=FeedbackIn(
                text=f"Broken {PINGS}", area=slug, customer="Acme <!channel>", reporter="U0ALICE"
            ),
        )
    home = {"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home", "event_ts": "1.2"}
    await slack.event(home)
    (published,) = await emulator.wait_for("views.publish")
    shown = rendered(published["view"]["blocks"])
    assert "Billing" in shown and "Lyra" in shown
    assert_no_pings(published)


async def test_release_and_launch_lookups_that_match_nothing_cannot_ping(slack: SlackSender) -> None:
    for command, text in (("/release", f"status {PINGS}"), ("/launch", f"status {PINGS}")):
        body = (await slack.command(command, text)).json()
        assert body["response_type"] == "ephemeral" and "matches" in body["text"]
        assert_no_pings(body)
