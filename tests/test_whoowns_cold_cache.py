"""A directory whose first read outlasts Slack's ack budget (a large one, a slow database): the
lookup that started the read is told it took too long, the read goes on, and the next lookup is
answered from it, instead of every lookup starting the read over and none ever answering."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.ownership import areas as area_service
from bot.ownership import cache as directory_cache
from bot.ownership.schema import AreaIn
from bot.slack.guard import TOO_SLOW

TEAM = "T0SWITCH"
BUDGET = 0.5


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"slack_ack_budget_seconds": BUDGET}


async def test_a_read_slower_than_the_budget_still_fills_the_cache_once(
    slack: SlackSender, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Billing", owner="U0BOB")
        )
    runtime.area_cache.invalidate(TEAM)
    reads: list[int] = []
    load = directory_cache._load_directory

    async def slow_load(**kwargs: Any) -> directory_cache.CachedDirectory:
        reads.append(kwargs["version"])
        await asyncio.sleep(BUDGET * 3)
        return await load(**kwargs)

    monkeypatch.setattr(directory_cache, "_load_directory", slow_load)

    first = await slack.command("/whoowns", "billing")
    assert first.status_code == 200
    assert first.json()["text"] == TOO_SLOW
    second = await slack.command("/whoowns", "billing")
    assert second.json()["text"] == TOO_SLOW, "the read under way is waited on, not started again"

    for _ in range(100):
        if runtime.area_cache.fresh(TEAM) is not None:
            break
        await asyncio.sleep(0.05)
    answered = await slack.command("/whoowns", "billing")
    assert answered.json()["text"] == "Billing is owned by <@U0BOB>"
    assert len(reads) == 1


async def test_a_large_directory_is_read_as_the_app_starts_and_the_first_lookup_asks_nothing(
    settings: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.web import create_app

    monkeypatch.setattr(directory_cache, "READ_AHEAD_AREAS", 3)
    async with unit_of_work(runtime.session_factory) as session:
        for name in ("Billing", "Bulk export", "Search"):
            await area_service.create_area(
                session=session, team_id=TEAM, data=AreaIn(name=name, owner="U0BOB")
            )
        await area_service.create_area(
            session=session, team_id="T0SMALL", data=AreaIn(name="Docs", owner="U0BOB")
        )

    starting = create_app(settings, manage_schema=False, scheduler=False)
    async with starting.router.lifespan_context(starting):
        cache = starting.state.runtime.area_cache
        directory = cache.fresh(TEAM)
        assert directory is not None and len(directory.rows) == 3
        assert cache.fresh("T0SMALL") is None  # a small directory is read on its first lookup


async def test_a_database_failing_the_read_ahead_leaves_the_app_to_start_and_read_later(
    settings: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.web import create_app

    async def refused(self: Any, *, session: Any) -> list[str]:
        raise ConnectionRefusedError("database away")

    monkeypatch.setattr(directory_cache.AreaIndexCache, "read_ahead", refused)
    starting = create_app(settings, manage_schema=False, scheduler=False)
    async with starting.router.lifespan_context(starting):
        assert starting.state.runtime.area_cache.fresh(TEAM) is None
    assert "could not read the ownership directory ahead" in caplog.text


async def test_a_read_ahead_outlasting_its_wait_goes_on_while_the_app_serves(
    settings: Any, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot import web

    monkeypatch.setattr(directory_cache, "READ_AHEAD_AREAS", 1)
    monkeypatch.setattr(web, "READ_AHEAD_SECONDS", 0.2)
    async with unit_of_work(runtime.session_factory) as session:
        await area_service.create_area(
            session=session, team_id=TEAM, data=AreaIn(name="Billing", owner="U0BOB")
        )
    load = directory_cache._load_directory

    async def slow_load(**kwargs: Any) -> directory_cache.CachedDirectory:
        await asyncio.sleep(1.0)
        return await load(**kwargs)

    monkeypatch.setattr(directory_cache, "_load_directory", slow_load)
    starting = web.create_app(settings, manage_schema=False, scheduler=False)
    async with starting.router.lifespan_context(starting):
        cache = starting.state.runtime.area_cache
        assert cache.fresh(TEAM) is None
        assert "still being read" in caplog.text
        for _ in range(100):
            if cache.fresh(TEAM) is not None:
                break
            await asyncio.sleep(0.05)
        assert cache.fresh(TEAM) is not None
