"""The weekly digest: timezone-aware schedule, content, and posted once with several schedulers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.feedback import capture as feedback_service
from bot.feedback.digest import DIGEST_KIND, next_digest_at, week_before
from bot.feedback.jobs import plan_digests
from bot.feedback.schema import FeedbackIn
from bot.scheduler.runner import JobRunner
from models import Feedback, Job
from tests.helpers import rendered
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


async def test_weekly_digest_is_posted_once_with_several_schedulers(
    runtime: Runtime, emulator: SlackEmulator, api: Any, settings: Any
) -> None:
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
