"""`GET /api/v1/stats`: every section over the window asked for, a default window, clear 401 and 422."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from models import Area, Feedback, Theme
from models.launch import Launch, LaunchFunction, RunStatus, StandupPrompt, StandupResponse, StandupRun

TEAM = "T0SWITCH"
NOW = datetime(2025, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = {"since": "2025-10-06", "until": "2025-11-30"}


# The endpoint's one clock reads this time, so no answer depends on the day tests run.
pytestmark = pytest.mark.time_machine(NOW, tick=False)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


async def seed(runtime: Runtime) -> None:
    """Two areas (one owned), feedback in three weeks, one theme, a launch with one standup."""
    async with unit_of_work(runtime.session_factory) as session:
        checkout = Area(
            team_id=TEAM, slug="checkout", name="Checkout", owner="U0ALICE", last_confirmed_at=NOW
        )
        search = Area(team_id=TEAM, slug="search", name="Search", kind="feature")
        theme = Theme(team_id=TEAM, title="Bulk export", status="planned")
        launch = Launch(
            team_id=TEAM,
            slug="checkout-v2",
            name="Checkout v2",
            target_date=date(2025, 12, 5),
            owner="U0ALICE",
        )
        session.add_all([checkout, search, theme, launch])
        await session.flush()
        items = [
            (at(10, 7), "bug", "critical", checkout.id, "Acme"),
            (at(10, 8), "request", "medium", checkout.id, "Globex"),
            (at(11, 12), "request", "high", None, "acme"),
            (at(11, 29), "praise", "low", checkout.id, None),
        ]
        session.add_all(
            Feedback(
                team_id=TEAM,
                text="feedback",
                kind=kind,
                importance=importance,
                area_id=area_id,
                customer=customer,
                theme_id=theme.id,
                created_at=created,
                updated_at=created,
            )
            for created, kind, importance, area_id, customer in items
        )
        function = LaunchFunction(team_id=TEAM, launch_id=launch.id, name="QA", owner="U0CAROL")
        run = StandupRun(
            team_id=TEAM,
            launch_id=launch.id,
            scheduled_for=at(11, 28, 9),
            local_date=date(2025, 11, 28),
            expires_at=at(11, 29),
            status=RunStatus.CLOSED,
            score=70,
        )
        session.add_all([function, run])
        await session.flush()
        session.add_all(
            [
                StandupPrompt(team_id=TEAM, run_id=run.id, user_id="U0CAROL", sent_at=at(11, 28, 9)),
                StandupPrompt(team_id=TEAM, run_id=run.id, user_id="U0DAVE", sent_at=at(11, 28, 9)),
                StandupResponse(
                    team_id=TEAM,
                    run_id=run.id,
                    function_id=function.id,
                    user_id="U0CAROL",
                    status="on_track",
                    responded_at=at(11, 28, 9, 25),
                ),
            ]
        )


async def test_stats_answer_every_section_for_the_window(api: httpx.AsyncClient, runtime: Runtime) -> None:
    await seed(runtime)
    response = await api.get("/api/v1/stats", params=WINDOW)
    assert response.status_code == 200, response.text
    stats = response.json()
    assert (stats["team_id"], stats["since"], stats["until"]) == (TEAM, "2025-10-06", "2025-11-30")
    assert datetime.fromisoformat(stats["generated_at"]) == NOW
    weeks = stats["feedback"]["by_week"]
    assert [w["week"] for w in weeks][:2] == ["2025-10-06", "2025-10-13"] and len(weeks) == 8
    assert [w["total"] for w in weeks] == [2, 0, 0, 0, 0, 1, 0, 1]
    assert weeks[0]["by_kind"] == {"bug": 1, "request": 1, "praise": 0, "question": 0, "other": 0}
    assert weeks[0]["by_area"] == {"checkout": 2} and weeks[5]["by_area"] == {"unassigned": 1}
    assert (stats["feedback"]["total"], stats["feedback"]["critical"]) == (4, 1)
    assert [
        (t["title"], t["status"], t["items"], t["customers"], t["new_customers"]) for t in stats["themes"]
    ] == [("Bulk export", "planned", 4, 2, 2)]
    [launch] = stats["launches"]
    assert (launch["slug"], launch["target_date"], launch["readiness_history"]) == (
        "checkout-v2",
        "2025-12-05",
        [{"date": "2025-11-28", "score": 70}],
    )
    assert (launch["prompts"], launch["answered"], launch["response_rate"]) == (2, 1, 0.5)
    assert stats["standups"] == {
        "runs": 1,
        "prompts": 2,
        "answered": 1,
        "response_rate": 0.5,
        "median_minutes_to_answer": 25.0,
    }
    coverage = stats["ownership"]["coverage"]
    assert (coverage["areas"], coverage["with_owner"], coverage["owned_percent"]) == (2, 1, 50.0)
    assert stats["ownership"]["staleness"]["confirmation_overdue"] == 0


async def test_without_dates_the_window_is_eight_weeks_ending_today(api: httpx.AsyncClient) -> None:
    stats = (await api.get("/api/v1/stats")).json()
    assert (stats["since"], stats["until"]) == ("2025-10-06", "2025-11-30")
    assert [w["week"] for w in stats["feedback"]["by_week"]] == [
        (date(2025, 10, 6) + timedelta(weeks=n)).isoformat() for n in range(8)
    ]


async def test_stats_need_a_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/stats", params=WINDOW)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"since": "last monday"},
            "since: must be an ISO date such as 2025-01-06 (YYYY-MM-DD); got 'last monday'",
        ),
        ({"until": "2025-13-01"}, "until: must be an ISO date"),
        ({"until": "1764460800"}, "until: must be an ISO date"),
        ({"since": "2025-11-03T00:00:00Z"}, "since: must be an ISO date"),
        ({"since": "2025-11-30", "until": "2025-11-01"}, "since (2025-11-30) is after until (2025-11-01)"),
        ({"since": "2025-12-01"}, "since (2025-12-01) is after until (2025-11-30)"),
        (
            {"since": "2020-01-01", "until": "2025-11-30"},
            "until (2025-11-30) is 2160 days after since (2020-01-01); ask for at most 731 days",
        ),
    ],
)
async def test_bad_or_inverted_dates_are_a_422_that_says_what_to_send(
    api: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await api.get("/api/v1/stats", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request" and message in response.json()["message"]


async def test_openapi_documents_the_window_and_an_example(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/stats"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["since"]["schema"]["anyOf"][0] == {"type": "string", "format": "date"}
    stats = schema["components"]["schemas"]["StatsOut"]
    assert set(stats["properties"]) == {
        "team_id",
        "since",
        "until",
        "generated_at",
        "feedback",
        "themes",
        "launches",
        "standups",
        "ownership",
    }
    assert stats["examples"][0]["themes"][0]["title"] == "Bulk export"
