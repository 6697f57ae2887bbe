"""`/api/v1/feedback`: filters, full-text search, stable pagination, CSV export, clear errors;
and the feedback sections of App Home."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.driver import SlackSender
from bot.emulator.server import SlackEmulator
from bot.feedback import api as feedback_api
from bot.feedback import queries as feedback_queries
from bot.feedback.schema import FeedbackFilters
from models import Feedback
from tests.helpers import rendered
from tests.test_feedback_helpers import TEAM, add_areas


@pytest.fixture
async def directory(runtime: Runtime) -> None:
    await add_areas(runtime)


async def post(api: Any, **body: Any) -> dict[str, Any]:
    response = await api.post("/api/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def ids(api: Any, **params: Any) -> list[int]:
    response = await api.get("/api/v1/feedback", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_create_get_and_same_message_again_adds_the_reporter(api: Any, directory: None) -> None:
    first = await post(
        api,
        text="Acme wants SSO",
        kind="request",
        importance="high",
        customer="Acme",
        area="billing",
        tags=["sso", "SSO", "auth"],
        channel="C0GENERAL",
        message_ts="1700000000.000100",
        author="U0BOB",
        reporter="U0ALICE",
    )
    assert (first["area"], first["tags"], first["reporters"], first["source"]) == (
        "billing",
        ["sso", "auth"],
        ["U0ALICE"],
        "api",
    )
    again = await api.post(
        "/api/v1/feedback",
        json={
            "text": "Acme wants SSO",
            "channel": "C0GENERAL",
            "message_ts": "1700000000.000100",
            "reporter": "U0CAROL",
        },
    )
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["reporters"]) == (first["id"], ["U0ALICE", "U0CAROL"])
    fetched = (await api.get(f"/api/v1/feedback/{first['id']}")).json()
    assert fetched["reporters"] == ["U0ALICE", "U0CAROL"] and fetched["customer"] == "Acme"


async def test_filters_narrow_the_list(api: Any, directory: None) -> None:
    bug = await post(
        api, text="Invoice totals wrong", kind="bug", importance="critical", area="billing", customer="Acme"
    )
    req = await post(api, text="Export invoices as PDF", kind="request", area="billing", customer="Globex")
    other = await post(api, text="Search by SKU", kind="request", area="search", customer="Acme")
    await api.patch(f"/api/v1/feedback/{other['id']}", json={"status": "declined"})

    assert await ids(api, area="billing") == [req["id"], bug["id"]]
    assert await ids(api, kind="request") == [other["id"], req["id"]]
    assert await ids(api, importance="critical") == [bug["id"]]
    assert await ids(api, customer="Acme") == [other["id"], bug["id"]]
    assert await ids(api, status="declined") == [other["id"]]
    assert await ids(api, area="billing", kind="bug") == [bug["id"]]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await ids(api, since=future) == []
    assert len(await ids(api, since="2020-01-01T00:00:00+00:00")) == 3


async def test_full_text_search_finds_words_anywhere_in_long_text(api: Any) -> None:
    long_text = "filler " * 5000 + "the quarterly reconciliation report crashes"
    hit = await post(api, text=long_text)
    await post(api, text="Dark mode please")
    both = await post(api, text="Reconciliation is slow, and dark mode would be nice")
    assert await ids(api, q="reconciliation") == [both["id"], hit["id"]]
    assert await ids(api, q="reconciliation crashes") == [hit["id"]]
    assert await ids(api, q="nothing-matches-this") == []
    assert await ids(api, q="100%_off") == []


async def test_pages_are_stable_while_new_feedback_arrives(api: Any, runtime: Runtime) -> None:
    created = [await post(api, text=f"Item {n}") for n in range(7)]
    # Several items logged in the same instant still page without gaps or repeats.
    async with unit_of_work(runtime.session_factory) as session:
        same = datetime.now(UTC) - timedelta(minutes=5)
        await session.execute(
            update(Feedback).where(Feedback.id.in_([c["id"] for c in created[2:6]])).values(created_at=same)
        )
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/api/v1/feedback", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if pages == 1:
            await post(api, text="Arrived while paging")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c["id"] for c in created) and len(seen) == 7
    assert (await api.get("/api/v1/feedback", params={"cursor": "not-a-cursor"})).status_code == 422


async def test_csv_export_streams_every_matching_row_in_batches(
    api: Any, runtime: Runtime, directory: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "team_id": TEAM,
            "text": f'=HYPERLINK("x") row {n}' if n == 0 else f'Row {n}, with "quotes"\nand a newline',
            "kind": "request" if n % 2 else "bug",
            "importance": "medium",
            "source": "api",
            "status": "new",
            "tags": ["a", "b"],
            "customer": f"Customer {n % 7}",
            "created_at": now - timedelta(seconds=n),
            "updated_at": now,
        }
        for n in range(2500)
    ]
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(insert(Feedback), rows)
    monkeypatch.setattr(feedback_api, "CSV_BATCH", 400)
    calls = {"n": 0}
    original = feedback_queries.export_batch

    async def counting(**kwargs: Any) -> Any:
        calls["n"] += 1
        return await original(**kwargs)

    monkeypatch.setattr(feedback_queries, "export_batch", counting)

    response = await api.get("/api/v1/feedback.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == feedback_api.CSV_COLUMNS
    assert len(table) == 2501
    text_col = feedback_api.CSV_COLUMNS.index("text")
    assert table[1][text_col] == '\'=HYPERLINK("x") row 0'
    assert table[2][text_col] == 'Row 1, with "quotes"\nand a newline'
    assert calls["n"] >= 2500 // 400 + 1

    only_bugs = list(
        csv.reader(io.StringIO((await api.get("/api/v1/feedback.csv", params={"kind": "bug"})).text))
    )
    assert len(only_bugs) == 1251
    assert (await api.get("/api/v1/feedback.csv", params={"area": "nowhere"})).status_code == 404


async def test_bad_input_gets_a_clear_message_and_changes_nothing(api: Any, http: Any) -> None:
    assert (await http.get("/api/v1/feedback", headers={"Authorization": "Bearer nope"})).status_code == 401
    for body in (
        {},
        {"text": ""},
        {"text": "x" * 40_001},
        {"text": "ok", "kind": "complaint"},
        {"text": "ok", "channel": "C0GENERAL"},
        {"text": "bad\x00text"},
        {"text": "ok", "area": "no-such-area"},
        {"text": "ok", "theme_id": 999},
        {"text": "ok", "permalink": "not a url"},
    ):
        response = await api.post("/api/v1/feedback", json=body)
        assert response.status_code == 422, body
        assert response.json()["message"], body
    assert (await api.get("/api/v1/feedback")).json() == {"items": [], "next_cursor": None}
    assert (await api.get("/api/v1/feedback", params={"since": "2024-01-01T00:00:00"})).status_code == 422
    assert (await api.get("/api/v1/feedback", params={"kind": "nope"})).status_code == 422
    assert (await api.get("/api/v1/feedback", params={"area": "nowhere"})).status_code == 404
    assert (await api.get("/api/v1/feedback/12345")).status_code == 404
    assert (await api.patch("/api/v1/feedback/12345", json={"kind": "bug"})).status_code == 404
    assert (await api.delete("/api/v1/feedback/12345")).status_code == 404

    created = await post(api, text="Keep me")
    assert (
        await api.patch(f"/api/v1/feedback/{created['id']}", json={"importance": "urgent"})
    ).status_code == 422
    assert (await api.get(f"/api/v1/feedback/{created['id']}")).json()["importance"] == "medium"
    assert (await api.delete(f"/api/v1/feedback/{created['id']}")).status_code == 204


async def test_app_home_shows_recent_feedback_in_my_areas_and_themes_i_follow(
    slack: SlackSender, emulator: SlackEmulator, api: Any, directory: None
) -> None:
    theme = (await api.post("/api/v1/themes", json={"title": "PDF invoices"})).json()["id"]
    await post(api, text="Invoices as PDF", area="billing", kind="request")
    await post(api, text="Unrelated search item", area="search")
    message = emulator.add_message("C0GENERAL", "U0DAVE", "PDF invoices please")
    await slack.event(
        {
            "type": "reaction_added",
            "user": "U0ALICE",
            "reaction": "memo",
            "item": {"type": "message", "channel": "C0GENERAL", "ts": message["ts"]},
            "event_ts": "1700009999.000100",
        }
    )
    [confirmation] = await emulator.wait_for("chat.postEphemeral")
    link = next(b["accessory"] for b in confirmation["blocks"] if "accessory" in b)
    await slack.block_action(link["action_id"], link["value"], user="U0ALICE")
    await emulator.wait_for("response_url")
    assert link["value"].endswith(f":{theme}")

    for user in ("U0BOB", "U0ALICE"):
        await slack.event(
            {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": "1700009999.1"}
        )
    await emulator.wait_for("views.publish", 2)
    bob = rendered(emulator.home_views["U0BOB"]["blocks"])
    assert "Recent feedback in areas I own" in bob and "Invoices as PDF" in bob
    assert "Unrelated search item" not in bob
    alice = rendered(emulator.home_views["U0ALICE"]["blocks"])
    assert "Themes I follow" in alice and "*PDF invoices* — open, 1 item, 0 customers" in alice


@pytest.mark.parametrize("strategy", ["collect", "window", "walk"])
async def test_every_search_strategy_pages_through_the_same_matches(
    strategy: str, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a search collects rare matches, walks dense ones, or widens a time window;
    each must give the same pages (SQLite always uses LIKE)."""
    if strategy != "collect":
        monkeypatch.setattr(feedback_queries, "RARE_MATCHES", 0)
        monkeypatch.setattr(feedback_queries, "WALK_DENSITY", 0.0 if strategy == "walk" else 2.0)
        monkeypatch.setattr(feedback_queries, "SEARCH_WINDOW_MATCHES", 1)
    now = datetime.now(UTC)
    texts = [
        "bulk export of reports" if n % 6 == 0 else "export is slow" if n % 3 == 0 else "login fails"
        for n in range(60)
    ]
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(
            insert(Feedback),
            [
                {
                    "team_id": TEAM,
                    "text": text,
                    "kind": "other",
                    "importance": "medium",
                    "source": "api",
                    "status": "new",
                    "tags": [],
                    "created_at": now - timedelta(days=n),
                    "updated_at": now,
                }
                for n, text in enumerate(texts)
            ],
        )

    async def all_pages(q: str) -> list[str]:
        found: list[str] = []
        after = None
        while True:
            async with unit_of_work(runtime.session_factory) as session:
                rows = await feedback_queries.list_feedback(
                    session=session, team_id=TEAM, filters=FeedbackFilters(q=q), after=after, limit=4
                )
            found += [r.feedback.created_at.isoformat() for r in rows]
            if len(rows) < 4:
                return found
            after = feedback_queries.position_of(rows[-1].feedback)

    expected_export = [(now - timedelta(days=n)).isoformat() for n in range(60) if n % 3 == 0]
    assert await all_pages("export") == expected_export
    expected_phrase = [(now - timedelta(days=n)).isoformat() for n in range(60) if n % 6 == 0]
    assert await all_pages('"bulk export"') == expected_phrase
