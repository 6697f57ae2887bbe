"""The weekly digest: timezone-aware schedule, content, and posted once with several schedulers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.analytics import charts
from bot.analytics.slack import UPLOADED
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.feedback import capture as feedback_service
from bot.feedback.digest import DIGEST_KIND, next_digest_at, week_before
from bot.feedback.jobs import plan_digests
from bot.feedback.schema import FeedbackIn
from bot.scheduler.runner import JobRunner
from models import Feedback, Job
from tests.helpers import completed_uploads, png_size, rendered
from tests.test_feedback_helpers import TEAM, add_areas

TIMEZONE = "America/New_York"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The tests run at this clock. The digest fell due an hour before it (local wall clock), so a
# scheduler coming up now still posts it.
NOW = datetime(2026, 6, 10, 15, 30, tzinfo=UTC)
_DUE = NOW.astimezone(ZoneInfo(TIMEZONE)) - timedelta(hours=1)
pytestmark = pytest.mark.time_machine(NOW, tick=True)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "switchboard_timezone": TIMEZONE,
        "feedback_digest_day": WEEKDAYS[_DUE.weekday()],
        "feedback_digest_time": f"{_DUE:%H:%M}",
    }


def test_next_digest_is_local_wall_clock_time_across_daylight_saving() -> None:
    friday = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    end = next_digest_at(friday, timezone="Europe/Berlin", day="mon", at="09:00")
    # Berlin moved to summer time on Sunday 29 March: 09:00 CEST is 07:00 UTC.
    assert end == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert week_before(end, timezone="Europe/Berlin") == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    # Exactly at the moment, the next one is a week later; a minute before, it is this one.
    assert next_digest_at(end, timezone="Europe/Berlin", day="mon", at="09:00") == end + timedelta(days=7)
    assert next_digest_at(end - timedelta(minutes=1), timezone="Europe/Berlin", day="mon", at="09:00") == end
    assert next_digest_at(friday, timezone="UTC", day="fri", at="12:30") == datetime(
        2026, 3, 27, 12, 30, tzinfo=UTC
    )


async def _log(runtime: Runtime, *, at: datetime, **fields: Any) -> int:
    async with unit_of_work(runtime.session_factory) as session:
        result = await feedback_service.capture(session=session, team_id=TEAM, data=FeedbackIn(**fields))
        await session.execute(
            update(Feedback).where(Feedback.id == result.feedback.id).values(created_at=at, updated_at=at)
        )
        return result.feedback.id


async def _seed_period(runtime: Runtime, api: Any) -> datetime:
    """A week of feedback (and some before and after it); returns the end of the digest's period."""
    await add_areas(runtime)
    end = _DUE.astimezone(UTC)
    start = week_before(end, timezone=TIMEZONE)
    theme = (await api.post("/api/v1/themes", json={"title": "Bulk export"})).json()["id"]
    this_week = start + timedelta(days=2)
    await _log(runtime, at=start - timedelta(days=3), text="Old: slow search", area="search", customer="Acme")
    await _log(runtime, at=start - timedelta(days=2), text="Old: export", customer="Acme", theme_id=theme)
    await _log(
        runtime, at=this_week, text="Invoices are wrong", area="billing", kind="bug", customer="Globex"
    )
    await _log(
        runtime,
        at=this_week,
        text="<!channel> Nobody can pay",
        area="billing",
        kind="bug",
        importance="critical",
        customer="Initech",
    )
    await _log(runtime, at=this_week, text="Export please", kind="request", customer="acme", theme_id=theme)
    await _log(
        runtime, at=this_week, text="Export for Hooli", kind="request", customer="Hooli", theme_id=theme
    )
    await _log(runtime, at=end + timedelta(minutes=5), text="After the period", area="search")
    return end


async def test_weekly_digest_is_posted_once_with_several_schedulers(
    runtime: Runtime, emulator: SlackEmulator, api: Any, settings: Any
) -> None:
    end = await _seed_period(runtime, api)

    # Two scheduler processes plan the same period; there is one job for it.
    planned_at = end - timedelta(minutes=1)
    await asyncio.gather(plan_digests(runtime, planned_at), plan_digests(runtime, planned_at))
    async with unit_of_work(runtime.session_factory) as session:
        keys = (await session.scalars(select(Job.dedupe_key).where(Job.kind == DIGEST_KIND))).all()
    assert keys == [f"{TEAM}:{end:%Y-%m-%dT%H:%MZ}"]

    first, second = JobRunner(runtime), JobRunner(runtime)
    if settings.is_sqlite:  # SQLite deployments run one scheduler
        await first.tick()
        await second.tick()
    else:
        await asyncio.gather(first.tick(), second.tick())
    await first.tick()

    posts = emulator.calls_to("chat.postMessage", channel="C0FEEDBACK")
    digests = [p for p in posts if "Feedback digest" in p["text"]]
    assert len(digests) == 1
    assert len(completed_uploads(emulator)) == 2  # its two charts, uploaded once
    shown = rendered(digests[0]["blocks"])
    assert "*4* new items (+2 vs the week before: 2)" in shown
    assert "Billing: *2* (+2)" in shown and "Search: *0* (−1)" in shown and "No area: *2* (+1)" in shown
    assert "Bug: *2*" in shown and "Feature request: *2*" in shown
    # Acme had asked for bulk export before; Hooli is the one new customer.
    assert "*Bulk export* — 1 new customer, 2 new items" in shown
    assert ":rotating_light: *Critical*" in shown and "Nobody can pay (Billing)" in shown
    assert "<!channel>" not in shown
    assert "After the period" not in shown

    # Next week's digest is planned, not posted.
    async with unit_of_work(runtime.session_factory) as session:
        pending = (
            await session.scalars(select(Job.run_at).where(Job.kind == DIGEST_KIND, Job.status == "pending"))
        ).all()
    assert len(pending) == 1 and end < pending[0] <= end + timedelta(days=7, hours=1)


async def test_no_digest_without_feedback_channel_or_feedback(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"feedback_channel": None})
    await _log(runtime, at=datetime.now(UTC), text="Something")
    await plan_digests(runtime, datetime.now(UTC))
    async with unit_of_work(runtime.session_factory) as session:
        assert (await session.scalars(select(Job).where(Job.kind == DIGEST_KIND))).all() == []


FEEDBACK_ALT = (
    "Feedback per week by area, 8 weeks to the week of 8 Jun 2026: 0, 0, 0, 0, 0, 1, 5, 0 (6 in all). "
    "Largest area Unassigned with 3; then Billing 2, Search 1."
)
THEMES_ALT = "Top themes by distinct customers: Bulk export 2 (1 new in the window)."
DIGEST_TEXT = "Feedback digest · Wed 03 Jun – Wed 10 Jun 2026: 4 new items"


def _digest_posts(emulator: SlackEmulator) -> list[Any]:
    return [p for p in emulator.calls_to("chat.postMessage", channel="C0FEEDBACK") if "digest" in p["text"]]


async def _post_digest(runtime: Runtime, end: datetime) -> None:
    await plan_digests(runtime, end - timedelta(minutes=1))
    await JobRunner(runtime).tick()


async def test_digest_carries_its_charts_uploaded_with_the_figures_in_their_alt_text(
    runtime: Runtime, emulator: SlackEmulator, api: Any
) -> None:
    end = await _seed_period(runtime, api)
    await _post_digest(runtime, end)

    (digest,) = _digest_posts(emulator)
    assert digest["text"] == DIGEST_TEXT
    uploads = completed_uploads(emulator)
    assert [c.method for c in emulator.calls if c.method.startswith("files.") or c.method == "upload"] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ] * 2
    assert [png_size(png) for png in uploads.values()] == [(1200, 600), (1200, 600)]
    images = [b for b in digest["blocks"] if b["type"] == "image"]
    assert [(b["slack_file"]["id"], b["alt_text"]) for b in images] == list(
        zip(uploads, [FEEDBACK_ALT, THEMES_ALT], strict=True)
    )
    assert [b["title"]["text"] for b in images] == [
        "Feedback per week by area, last 8 weeks",
        "Top themes by distinct customers (new: first asked this week)",
    ]
    # Each chart sits under the figures it draws, which the text gives too.
    blocks = digest["blocks"]
    headings = [str((b.get("text") or {}).get("text", "")).split("\n")[0] for b in blocks]
    assert blocks[headings.index("*By area*") + 1] == images[0]
    assert blocks[headings.index("*Top themes by new customers*") + 1] == images[1]
    shown = rendered(digest["blocks"])
    assert "*4* new items (+2 vs the week before: 2)" in shown and "Billing: *2* (+2)" in shown


async def test_digest_is_posted_whole_without_charts_when_slack_refuses_the_upload(
    runtime: Runtime, emulator: SlackEmulator, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    end = await _seed_period(runtime, api)
    emulator.fail("files.getUploadURLExternal", error="missing_scope")
    emulator.fail("upload", status=500, times=3)
    await _post_digest(runtime, end)

    (digest,) = _digest_posts(emulator)
    assert digest["text"] == DIGEST_TEXT
    assert [b for b in digest["blocks"] if b["type"] == "image"] == [] and completed_uploads(emulator) == {}
    shown = rendered(digest["blocks"])
    assert "*4* new items (+2 vs the week before: 2)" in shown
    assert "*Bulk export* — 1 new customer, 2 new items" in shown
    reasons = [r.getMessage() for r in caplog.records if "chart out" in r.getMessage()]
    assert len(reasons) == 2 and "missing_scope" in reasons[0] and "status: 500" in reasons[1]


async def test_retried_digest_shows_the_charts_it_uploaded_before_without_uploading_again(
    runtime: Runtime, emulator: SlackEmulator, api: Any
) -> None:
    end = await _seed_period(runtime, api)
    # The send fails after the uploads.
    emulator.fail("chat.postMessage", error="fatal_error", when=lambda args: args["channel"] == "C0FEEDBACK")
    await _post_digest(runtime, end)
    assert _digest_posts(emulator)[0]["blocks"]  # tried, refused
    first = completed_uploads(emulator)
    assert len(first) == 2

    # The retry runs in another process: nothing drawn or uploaded there yet.
    charts.CACHE.clear()
    UPLOADED.clear()
    await JobRunner(runtime).tick(datetime.now(UTC) + timedelta(hours=1))

    refused, digest = _digest_posts(emulator)
    assert completed_uploads(emulator) == first and len(emulator.calls_to("upload")) == 2
    images = [b for b in digest["blocks"] if b["type"] == "image"]
    assert [(b["slack_file"]["id"], b["alt_text"]) for b in images] == list(
        zip(first, [FEEDBACK_ALT, THEMES_ALT], strict=True)
    )
    assert digest["blocks"] == refused["blocks"] and digest["text"] == DIGEST_TEXT
    async with unit_of_work(runtime.session_factory) as session:
        job = await session.scalar(select(Job).where(Job.kind == DIGEST_KIND, Job.status == "done"))
    assert job is not None and job.attempts == 2
    assert {name: c["file_id"] for name, c in job.payload["charts"].items()} == dict(
        zip(["feedback_by_area", "top_themes"], first, strict=True)
    )
