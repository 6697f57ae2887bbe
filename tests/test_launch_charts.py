"""A launch's readiness trend in Slack: the standup summary and `/launch status` carry an uploaded
chart with the target date marked, App Home a sparkline; a failed upload leaves only the chart out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.analytics import charts
from bot.analytics.slack import UPLOADED
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.launches import standups
from bot.scheduler.runner import JobRunner
from models import Job
from models.launch import LaunchFunction, RunStatus, StandupRun
from tests.helpers import completed_uploads, png_size, rendered
from tests.test_home import home_opened
from tests.test_standups import LAUNCH_CHANNEL, TEAM, make_due, make_launch

# A Saturday: the weekday schedule plans no standup of its own beside the ones started by hand.
SATURDAY = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)
TARGET = date(2026, 6, 26)
pytestmark = pytest.mark.time_machine(SATURDAY, tick=True)

TREND_ALT = (
    "Readiness of Checkout v2 over 3 standups from 2 Jun to 6 Jun 2026: 40, 55, 57 out of 100; "
    "latest 57. Target date 26 Jun 2026, in 20 days (today is 6 Jun 2026)."
)
STATUS_ALT = (
    "Readiness of Checkout v2 over 2 standups from 2 Jun to 4 Jun 2026: 40, 55 out of 100; "
    "latest 55. Target date 26 Jun 2026, in 20 days (today is 6 Jun 2026)."
)
SUMMARY_TEXT = (
    "Readiness standup for Checkout v2: 57/100 (▲ +2 since last standup), 0 blockers, 20 days to launch"
)


async def launch_with_history(runtime: Runtime, emulator: SlackEmulator, *scores: int) -> int:
    """Checkout v2, its earlier standups closed with `scores` (Tuesday, Thursday, …), Engineering on
    track and QA done, so that a standup now scores (70 + 100 + 0) / 3 = 57."""
    launch_id = await make_launch(runtime, emulator, target_date=TARGET)
    async with unit_of_work(runtime.session_factory) as session:
        for n, score in enumerate(scores):
            day = date(2026, 6, 2) + timedelta(days=2 * n)
            at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
            session.add(
                StandupRun(
                    team_id=TEAM,
                    launch_id=launch_id,
                    scheduled_for=at,
                    local_date=day,
                    expires_at=at + timedelta(hours=15),
                    status=RunStatus.CLOSED,
                    score=score,
                    closed_at=at + timedelta(hours=2),
                )
            )
        for name, status in (("Engineering", "on_track"), ("QA", "done")):
            await session.execute(
                update(LaunchFunction)
                .where(LaunchFunction.launch_id == launch_id, LaunchFunction.name == name)
                .values(status=status)
            )
    return launch_id


async def standup_to_cutoff(slack: SlackSender, runtime: Runtime, run_jobs: Any) -> None:
    await slack.command("/launch", "standup checkout")
    await run_jobs()
    await make_due(runtime, standups.CUTOFF_KIND)
    await run_jobs()


def summaries_posted(emulator: SlackEmulator) -> list[Any]:
    return [
        c for c in emulator.calls_to("chat.postMessage", channel=LAUNCH_CHANNEL) if "standup" in c["text"]
    ]


def images(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "image"]


async def test_standup_summary_carries_the_readiness_trend_with_the_target_date(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await launch_with_history(runtime, emulator, 40, 55)
    await standup_to_cutoff(slack, runtime, run_jobs)

    (summary,) = summaries_posted(emulator)
    assert summary["text"] == SUMMARY_TEXT
    ((file_id, png),) = completed_uploads(emulator).items()
    assert png_size(png) == (1200, 600)
    (get_url,) = emulator.calls_to("files.getUploadURLExternal")
    assert (get_url["filename"], int(get_url["length"])) == ("readiness.png", len(png))
    blocks = summary["blocks"]
    # Under the headline with the score, which the text states too.
    assert blocks[1] == {
        "type": "image",
        "block_id": "chart_readiness",
        "slack_file": {"id": file_id},
        "alt_text": TREND_ALT,
        "title": {"type": "plain_text", "text": "Readiness of Checkout v2 by standup", "emoji": True},
    }
    shown = rendered(blocks)
    assert "*Readiness:* 57/100 · ▲ +2 since last standup" in shown and "20 days to launch" in shown


async def test_standup_summary_is_posted_without_the_chart_when_the_upload_fails(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await launch_with_history(runtime, emulator, 40, 55)
    emulator.fail("files.completeUploadExternal", status=500, times=3)
    await standup_to_cutoff(slack, runtime, run_jobs)

    (summary,) = summaries_posted(emulator)
    assert summary["text"] == SUMMARY_TEXT and images(summary["blocks"]) == []
    assert "*Readiness:* 57/100" in rendered(summary["blocks"])
    assert completed_uploads(emulator) == {} and len(emulator.calls_to("files.completeUploadExternal")) == 3
    async with unit_of_work(runtime.session_factory) as session:
        run = await session.scalar(
            select(StandupRun).where(StandupRun.status == RunStatus.CLOSED).order_by(StandupRun.id.desc())
        )
    assert run is not None and run.summary_ts


async def test_retried_standup_summary_uploads_its_chart_once(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await launch_with_history(runtime, emulator, 40, 55)
    emulator.fail("chat.postMessage", error="fatal_error", when=lambda a: a["channel"] == LAUNCH_CHANNEL)
    await standup_to_cutoff(slack, runtime, run_jobs)
    assert len(completed_uploads(emulator)) == 1 and len(summaries_posted(emulator)) == 1

    charts.CACHE.clear()  # the retry runs in another process
    UPLOADED.clear()
    await JobRunner(runtime).tick(datetime.now(UTC) + timedelta(hours=1))
    refused, summary = summaries_posted(emulator)
    assert len(emulator.calls_to("upload")) == 1 and summary["blocks"] == refused["blocks"]
    assert images(summary["blocks"])[0]["alt_text"] == TREND_ALT
    async with unit_of_work(runtime.session_factory) as session:
        job = await session.scalar(select(Job).where(Job.kind == standups.CUTOFF_KIND))
    assert job is not None and (job.status, job.attempts) == ("done", 2)


async def test_launch_status_carries_the_readiness_trend(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await launch_with_history(runtime, emulator, 40, 55)
    acked = await slack.command("/launch", "status checkout")
    assert acked.status_code == 200 and not acked.content  # acknowledged at once, answered below

    (answer,) = await emulator.wait_for("response_url")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Checkout v2: readiness 57/100, 20 days to launch"
    ((file_id, png),) = completed_uploads(emulator).items()
    assert png_size(png) == (1200, 600)
    blocks = answer["blocks"]
    assert [b["type"] for b in blocks[:4]] == ["section", "section", "image", "divider"]
    assert (blocks[2]["slack_file"], blocks[2]["alt_text"]) == ({"id": file_id}, STATUS_ALT)
    assert "*Readiness:* 57/100" in rendered(blocks) and "<@U0BOB>" in rendered(blocks)


async def test_launch_status_answers_without_the_chart_when_the_upload_fails(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await launch_with_history(runtime, emulator, 40, 55)
    emulator.fail("files.getUploadURLExternal", error="not_allowed_token_type")
    await slack.command("/launch", "status checkout")

    (answer,) = await emulator.wait_for("response_url")
    assert answer["text"] == "Checkout v2: readiness 57/100, 20 days to launch"
    assert images(answer["blocks"]) == [] and "*Readiness:* 57/100" in rendered(answer["blocks"])
    assert emulator.calls_to("upload") == []


async def test_launch_status_before_any_standup_is_answered_at_once_without_a_chart(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await launch_with_history(runtime, emulator)
    body = (await slack.command("/launch", "status checkout")).json()
    assert body["text"] == "Checkout v2: readiness 57/100, 20 days to launch"
    assert images(body["blocks"]) == [] and emulator.calls_to("files.getUploadURLExternal") == []


async def test_app_home_shows_a_readiness_sparkline_for_launches_with_a_trend(
    slack: SlackSender, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await launch_with_history(runtime, emulator, 40, 55)
    await make_launch(runtime, emulator, name="Mobile offline mode", target_date=TARGET)  # no trend yet
    await slack.event(home_opened("U0ALICE"))
    (published,) = await emulator.wait_for("views.publish")

    ((file_id, png),) = completed_uploads(emulator).items()
    assert png_size(png) == (600, 150)
    (sparkline,) = images(published["view"]["blocks"])
    assert sparkline["slack_file"] == {"id": file_id}
    assert sparkline["alt_text"] == "Readiness at the last 2 standups: 40, 55 out of 100; latest 55."
    assert sparkline["title"]["text"] == "Checkout v2: readiness at the latest standups"
    assert emulator.home_views["U0ALICE"]["blocks"] == published["view"]["blocks"]

    # Opened again with the same figures: the same file, not a new upload.
    await slack.event(home_opened("U0ALICE"))
    again = (await emulator.wait_for("views.publish", 2))[-1]
    assert images(again["view"]["blocks"]) == [sparkline] and len(emulator.calls_to("upload")) == 1
