"""/api/v1/areas, /jobs and /stats: CRUD by slug, fuzzy lookup, pagination, and bad input never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from bot.core.runtime import Runtime
from bot.core.settings import load_settings
from bot.core.uow import unit_of_work
from bot.emulator.driver import SIGNING_SECRET
from bot.emulator.server import SlackEmulator
from bot.scheduler.jobs import enqueue
from bot.web import create_app
from models import Area, Installation, Job
from models.base import utcnow
from tests.helpers import after_announce_window

BILLING = {
    "name": "Billing",
    "owner": "U0BOB",
    "team": "Payments",
    "backups": ["U0CAROL"],
    "channel": "C0GENERAL",
    "aliases": ["invoices"],
    "links": [{"title": "Runbook", "url": "https://wiki.example.com/billing"}],
}


async def area_count(runtime: Runtime) -> int:
    async with unit_of_work(runtime.session_factory) as session:
        return int(await session.scalar(select(func.count()).select_from(Area)) or 0)


async def test_create_read_update_delete_by_slug(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/areas", json=BILLING)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["slug"] == "billing" and body["owner"] == "U0BOB" and body["backups"] == ["U0CAROL"]
    assert body["links"] == [{"title": "Runbook", "url": "https://wiki.example.com/billing"}]
    assert body["last_confirmed_at"] is not None and body["confirmation_due_at"] is not None
    assert created.headers["Location"] == "/api/v1/areas/billing"

    fetched = await api.get("/api/v1/areas/billing")
    assert fetched.status_code == 200 and fetched.json()["team"] == "Payments"

    patched = await api.patch("/api/v1/areas/billing", json={"team": "Revenue", "aliases": ["invoicing"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["team"] == "Revenue" and patched.json()["aliases"] == ["invoicing"]
    assert patched.json()["owner"] == "U0BOB"

    deleted = await api.delete("/api/v1/areas/billing")
    assert deleted.status_code == 204
    gone = await api.get("/api/v1/areas/billing")
    assert gone.status_code == 404
    assert gone.json() == {"error": "not_found", "message": "No area with slug `billing`."}


async def test_api_write_is_answered_by_whoowns_at_once(api: httpx.AsyncClient, slack: Any) -> None:
    assert (await api.post("/api/v1/areas", json={"name": "Search", "owner": "U0ALICE"})).status_code == 201
    first = await slack.command("/whoowns", "search")
    assert "<@U0ALICE>" in first.text
    await api.patch("/api/v1/areas/search", json={"owner": "U0DAVE"})
    second = await slack.command("/whoowns", "search")
    assert "<@U0DAVE>" in second.text and "<@U0ALICE>" not in second.text


async def test_owner_changes_are_announced_in_ownership_channel(
    api: httpx.AsyncClient, emulator: SlackEmulator, run_jobs: Any
) -> None:
    await api.post("/api/v1/areas", json=BILLING)
    await api.patch("/api/v1/areas/billing", json={"owner": "U0DAVE"})
    await api.patch("/api/v1/areas/billing", json={"description": "Invoices and dunning"})
    await run_jobs(after_announce_window())
    (post,) = emulator.calls_to("chat.postMessage", channel="C0OWNERS")
    assert post["text"] == (
        ":arrows_counterclockwise: *2 ownership changes*\n"
        "• *Billing*: _nobody_ → <@U0BOB>\n"
        "• *Billing*: <@U0BOB> → <@U0DAVE>"
    )


async def test_duplicate_slug_is_409_and_keeps_the_first(api: httpx.AsyncClient, runtime: Runtime) -> None:
    assert (await api.post("/api/v1/areas", json=BILLING)).status_code == 201
    again = await api.post("/api/v1/areas", json={"name": "Billing v2", "slug": "billing", "owner": "U0DAVE"})
    assert again.status_code == 409
    assert again.json()["error"] == "conflict" and "billing" in again.json()["message"]
    assert (await api.get("/api/v1/areas/billing")).json()["owner"] == "U0BOB"
    assert await area_count(runtime) == 1


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("slug", ["nothing-here", "UPPER", "with%00nul", "x" * 300, "%F0%9F%92%A5"])
async def test_unknown_slug_is_404_json(api: httpx.AsyncClient, method: str, slug: str) -> None:
    response = await api.request(method, f"/api/v1/areas/{slug}", json={} if method == "PATCH" else None)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found" and "No area with slug" in response.json()["message"]


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"name": "Billing", "owner": "bob"}, "owner"),
        ({"name": "Billing", "slug": "Bad Slug!"}, "slug"),
        ({"name": "Billing", "colour": "blue"}, "colour"),
        ({"name": 42}, "name"),
        ({"name": "Billing", "backups": "U0BOB"}, "backups"),
        ({"name": "Billing", "confirm_every_days": "soon"}, "confirm_every_days"),
        ({"name": "Billing", "kind": "galaxy"}, "kind"),
        ({"name": "Billing", "channel": "general"}, "channel"),
        ({"name": "Billing", "links": [{"url": "not a url"}]}, "links"),
        ({"owner": "U0BOB"}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Bill\u0000ing"}, "NUL"),
    ],
)
async def test_invalid_area_is_422_naming_the_field(
    api: httpx.AsyncClient, runtime: Runtime, payload: dict[str, Any], named: str
) -> None:
    response = await api.post("/api/v1/areas", json=payload)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and named in body["message"]
    assert await area_count(runtime) == 0


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"name": None}, "name cannot be null"),
        ({"kind": None}, "kind cannot be null"),
        ({"owner": "not-a-user"}, "owner"),
        ({"slug": "renamed"}, "slug"),
        ({"backups": [1, 2]}, "backups"),
    ],
)
async def test_invalid_patch_is_422_and_changes_nothing(
    api: httpx.AsyncClient, payload: dict[str, Any], named: str
) -> None:
    await api.post("/api/v1/areas", json=BILLING)
    response = await api.patch("/api/v1/areas/billing", json=payload)
    assert response.status_code == 422, response.text
    assert named in response.json()["message"]
    assert (await api.get("/api/v1/areas/billing")).json()["name"] == "Billing"


async def test_invalid_json_is_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/areas", content=b'{"name": "Billing",', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request" and "JSON" in response.json()["message"]


MALFORMED_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"Billing"',
    b"42",
    b"{",
    b"\xff\xfe\x00",
    b'{"name": "a", "name": "b", "aliases": {"x": 1}}',
    b'{"name": {"$gt": ""}}',
    b'{"name": "' + b"x" * 100_000 + b'"}',
    b'{"name": "ok", "description": "' + b"d" * 5000 + b'"}',
    b'{"name": "ok", "aliases": [' + b",".join([b'"a"'] * 2000) + b"]}",
    b'{"name": "ok", "aliases": ["' + b"a" * 300 + b'"]}',
    b'{"name": "ok", "confirm_every_days": 1e309}',
    b'{"name": "ok", "confirm_every_days": -1}',
    b'{"name": "ok", "confirm_every_days": 99999999999999999999999}',
    b'{"name": "ok", "links": [{"url": "javascript:alert(1)"}]}',
    b'{"name": "ok", "links": "https://example.com"}',
    b'{"name": "ok", "tags": [null]}',
    b'{"name": "ok", "team": ["x"]}',
    b'{"name": "ok", "owner": "U' + b"A" * 40 + b'"}',
    b'{"name": "ok", "slug": "' + b"a" * 81 + b'"}',
    b'{"name": "\\ud800"}',
    b'{"name": "ok", "description": "nul \\u0000 here"}',
    b'{"name": "ok", "tags": ["\\u0000"]}',
    b"[" * 5000 + b"]" * 5000,
]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_fuzzed_bodies_never_cause_a_server_error(
    api: httpx.AsyncClient, runtime: Runtime, method: str
) -> None:
    await api.post("/api/v1/areas", json=BILLING)
    url = "/api/v1/areas" if method == "POST" else "/api/v1/areas/billing"
    for body in MALFORMED_BODIES:
        for content_type in ("application/json", "text/plain"):
            response = await api.request(method, url, content=body, headers={"Content-Type": content_type})
            assert response.status_code in {200, 201, 409, 422}, (body[:80], response.text)
            if response.status_code >= 400:
                assert response.json()["message"], body[:80]
    fetched = (await api.get("/api/v1/areas/billing")).json()
    assert fetched["owner"] == "U0BOB" and fetched["description"] == ""


async def test_unicode_and_mentions_are_stored_as_given(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/areas", json={"name": "Zahlungen — Ü <!channel>", "description": "émoji 💸"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["slug"] == "zahlungen-u-channel"
    assert response.json()["description"] == "émoji 💸"


async def test_list_pages_through_every_area_by_slug(api: httpx.AsyncClient) -> None:
    names = ["Search", "Billing", "Auth", "Exports", "Onboarding"]
    for name in names:
        await api.post("/api/v1/areas", json={"name": name})
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await api.get("/api/v1/areas", params=params)
        assert response.status_code == 200
        page = response.json()
        seen += [item["slug"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(n.lower() for n in names) and pages == 3


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-base64!"},
        {"cursor": "bm9wZQ"},  # base64 of "nope"
        {"cursor": "eyJhZnRlciI6IDN9"},  # {"after": 3}
        {"cursor": "eyJhZnRlciI6ICJceDAwIn0"},
        {"limit": 0},
        {"limit": 100000},
        {"limit": "many"},
        {"team_id": "not a team"},
        {"q": ""},
    ],
)
async def test_bad_list_parameters_are_422(api: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await api.get("/api/v1/areas", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request" and response.json()["message"]


async def test_q_lookup_returns_matches_with_scores(api: httpx.AsyncClient) -> None:
    for data in (BILLING, {"name": "Bulk export"}, {"name": "Bulk import"}, {"name": "Search"}):
        await api.post("/api/v1/areas", json=data)
    confident = (await api.get("/api/v1/areas", params={"q": "invoices"})).json()
    assert confident["match"] == "confident"
    assert [i["slug"] for i in confident["items"]] == ["billing"] and confident["items"][0]["score"] == 100
    assert confident["next_cursor"] is None

    ambiguous = (await api.get("/api/v1/areas", params={"q": "bulk"})).json()
    assert ambiguous["match"] == "ambiguous"
    assert {i["slug"] for i in ambiguous["items"]} == {"bulk-export", "bulk-import"}
    assert all(60 <= i["score"] <= 100 for i in ambiguous["items"])

    nothing = (await api.get("/api/v1/areas", params={"q": "zzzz qqqq"})).json()
    assert nothing["match"] == "none"


async def test_other_workspace_is_404_and_own_workspace_is_accepted(api: httpx.AsyncClient) -> None:
    await api.post("/api/v1/areas", json=BILLING)
    own = await api.get("/api/v1/areas/billing", params={"team_id": "T0SWITCH"})
    assert own.status_code == 200
    other = await api.get("/api/v1/areas/billing", params={"team_id": "T0OTHER"})
    assert other.status_code == 404 and "T0OTHER" in other.json()["message"]


async def test_workspace_is_learned_from_auth_test_once(
    api: httpx.AsyncClient, emulator: SlackEmulator
) -> None:
    for _ in range(3):
        assert (await api.get("/api/v1/areas")).status_code == 200
    assert len(emulator.calls_to("auth.test")) == 1


async def test_jobs_lists_upcoming_work_soonest_first_across_pages(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    now = utcnow()
    async with unit_of_work(runtime.session_factory) as session:
        # Inserted out of order so that id order and due order differ.
        for key, minutes in [("c", 30), ("a", 10), ("d", 40), ("b", 10), ("e", 5)]:
            await enqueue(
                session=session,
                team_id="T0SWITCH",
                kind="test.job",
                key=key,
                run_at=now + timedelta(minutes=minutes),
            )
        await enqueue(session=session, team_id="T0ELSE", kind="test.job", key="other", run_at=now)
        await enqueue(session=session, team_id="T0SWITCH", kind="test.job", key="done", run_at=now)
        await session.execute(update(Job).where(Job.dedupe_key == "done").values(status="done"))
    ids: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/api/v1/jobs", params=params)).json()
        ids += [item["id"] for item in page["items"]]
        assert all(item["kind"] == "test.job" and item["status"] == "pending" for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    async with unit_of_work(runtime.session_factory) as session:
        order = {j.id: j.dedupe_key for j in (await session.scalars(select(Job))).all()}
    assert [order[i] for i in ids] == ["e", "a", "b", "c", "d"]
    bad = await api.get("/api/v1/jobs", params={"cursor": "eyJydW5fYXQiOiAieWVzdGVyZGF5IiwgImlkIjogMX0"})
    assert bad.status_code == 422


async def test_stats_report_ownership_coverage_and_staleness(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    await api.post("/api/v1/areas", json=BILLING)
    await api.post("/api/v1/areas", json={"name": "Search", "kind": "feature", "owner": "U0ALICE"})
    await api.post("/api/v1/areas", json={"name": "Exports", "kind": "feature"})
    await api.post("/api/v1/areas", json={"name": "Deploys", "kind": "process", "owner": "U0DAVE"})
    await api.post("/api/v1/areas", json={"name": "Docs site", "kind": "doc", "owner": "U0CAROL"})
    long_ago = utcnow() - timedelta(days=200)
    async with unit_of_work(runtime.session_factory) as session:
        await session.execute(update(Area).where(Area.slug == "search").values(last_confirmed_at=long_ago))
        await session.execute(
            update(Area)
            .where(Area.slug == "deploys")
            .values(owner_status="deactivated", confirm_requested_at=utcnow())
        )
    response = await api.get("/api/v1/stats")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["team_id"] == "T0SWITCH"
    coverage = stats["ownership"]["coverage"]
    assert coverage["areas"] == 5 and coverage["with_owner"] == 4 and coverage["without_owner"] == 1
    assert coverage["owned_percent"] == 80.0
    assert coverage["by_kind"]["feature"] == {"areas": 2, "with_owner": 1, "without_owner": 1}
    assert coverage["by_kind"]["product_area"] == {"areas": 1, "with_owner": 1, "without_owner": 0}
    staleness = stats["ownership"]["staleness"]
    assert staleness["confirmation_overdue"] == 1 and staleness["owner_deactivated"] == 1
    assert staleness["awaiting_answer"] == 1 and staleness["owner_missing"] == 0
    assert [(a["slug"], a["reason"]) for a in staleness["areas"]] == [
        ("deploys", "owner_deactivated"),
        ("search", "confirmation_overdue"),
    ]


async def test_stats_of_an_empty_directory(api: httpx.AsyncClient) -> None:
    stats = (await api.get("/api/v1/stats")).json()
    assert stats["ownership"]["coverage"] == {
        "areas": 0,
        "with_owner": 0,
        "without_owner": 0,
        "owned_percent": 100.0,
        "by_kind": {},
    }


async def test_openapi_describes_area_models_and_errors(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    assert {"AreaIn", "AreaPatch", "AreaOut", "AreaSearchOut", "ErrorOut", "JobOut", "StatsOut"} <= set(
        components
    )
    assert set(components["AreaOut"]["properties"]) >= {"slug", "owner", "backups", "confirmation_due_at"}
    post = schema["paths"]["/api/v1/areas"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AreaIn")
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/AreaOut")
    assert post["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    get_one = schema["paths"]["/api/v1/areas/{slug}"]["get"]
    assert get_one["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert get_one["security"] == [{"HTTPBearer": []}]
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.fixture
async def oauth_api(
    database_url: str, emulator: SlackEmulator
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The admin API of a multi-workspace (OAuth) deployment."""
    settings = load_settings(
        database_url=database_url,
        slack_client_id="1234567890.0987654321",
        slack_client_secret="oauth-client-secret",
        switchboard_secret_key="c3dpdGNoYm9hcmQtdGVzdHMtc2VjcmV0LWtleS0zMmI=",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=emulator.url,
        admin_api_tokens="test-admin-token",
        switchboard_scheduler="off",
        _env_file=None,
    )
    application = create_app(settings, manage_schema=False, scheduler=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        headers = {"Authorization": "Bearer test-admin-token"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://switchboard.test", headers=headers
        ) as client:
            yield client, application.state.runtime


async def install(runtime: Runtime, team_id: str) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        session.add(Installation(team_id=team_id, bot_token=f"xoxb-{team_id.lower()}"))


async def test_oauth_mode_needs_team_id_unless_exactly_one_workspace_is_installed(
    oauth_api: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = oauth_api
    none_yet = await client.get("/api/v1/areas")
    assert none_yet.status_code == 422 and none_yet.json()["message"].startswith("team_id is required")

    await install(runtime, "T0FIRST")
    created = await client.post("/api/v1/areas", json={"name": "Billing"})
    assert created.status_code == 201
    await install(runtime, "T0SECOND")
    ambiguous = await client.get("/api/v1/areas/billing")
    assert ambiguous.status_code == 422 and "team_id is required" in ambiguous.json()["message"]

    first = await client.get("/api/v1/areas/billing", params={"team_id": "T0FIRST"})
    assert first.status_code == 200
    second = await client.get("/api/v1/areas/billing", params={"team_id": "T0SECOND"})
    assert second.status_code == 404 and "No area" in second.json()["message"]
    unknown = await client.get("/api/v1/areas", params={"team_id": "T0NOWHERE"})
    assert unknown.status_code == 404 and "not installed" in unknown.json()["message"]


async def test_concurrent_creates_all_succeed_and_duplicates_get_409(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    names = [f"Area {n}" for n in range(6)] + ["Area 0", "Area 1"]
    responses = await asyncio.gather(*(api.post("/api/v1/areas", json={"name": n}) for n in names))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 6 + [409] * 2, [r.text for r in responses]
    assert await area_count(runtime) == 6
