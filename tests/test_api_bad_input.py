"""The admin API's answers to input the database cannot hold, on SQLite and PostgreSQL alike: ids
out of range, nulls, control characters, tampered cursors, times past the calendar, YAML that
expands without end, a malformed body without a token; what the database itself refuses; and the
statuses the OpenAPI document lists."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import exc as sa_exc

from bot.api.cursors import BAD_CURSOR, CursorSigner, cursor_key, scope_of
from bot.api.errors import DATABASE_DOWN
from bot.api.pagination import MAX_POSITION_TEXT
from bot.core.runtime import Runtime
from bot.feedback import api as feedback_api
from bot.feedback import queries as feedback_queries

BEYOND = 2**31
YAML = {"Content-Type": "application/yaml"}


async def created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(f"/api/v1{path}", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("resource", ["feedback", "themes", "launches", "releases"])
async def test_ids_past_the_database_range_are_422_and_unknown_ones_404(
    api: httpx.AsyncClient, resource: str
) -> None:
    for beyond in (0, -1, BEYOND, 10**30):
        response = await api.get(f"/api/v1/{resource}/{beyond}")
        assert response.status_code == 422, (beyond, response.text)
        assert response.json()["error"] == "invalid_request"
    assert (await api.get(f"/api/v1/{resource}/{BEYOND - 1}")).status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/feedback", {"text": "PDF export", "theme_id": BEYOND}),
        ("/releases", {"title": "Audit", "channels": ["C0GENERAL"], "launch_id": BEYOND}),
        ("/releases", {"title": "Audit", "channels": ["C0GENERAL"], "theme_ids": [1, BEYOND]}),
        ("/themes/1/ship", {"release_id": 10**20}),
        ("/themes/1/merge", {"into": BEYOND}),
    ],
)
async def test_ids_in_bodies_past_the_database_range_are_422(
    api: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    response = await api.post(f"/api/v1{path}", json=body)
    assert response.status_code == 422, response.text


async def test_null_for_a_field_that_cannot_be_empty_is_422_and_changes_nothing(
    api: httpx.AsyncClient,
) -> None:
    item = await created(api, "/feedback", {"text": "PDF export", "kind": "request"})
    for field in ("kind", "importance", "status", "text"):
        response = await api.patch(f"/api/v1/feedback/{item['id']}", json={field: None})
        assert response.status_code == 422 and field in response.json()["message"], response.text
    assert (await api.post("/api/v1/feedback", json={"text": "x", "importance": None})).status_code == 422
    theme = await created(api, "/themes", {"title": "PDF invoices"})
    assert (await api.patch(f"/api/v1/themes/{theme['id']}", json={"title": None})).status_code == 422
    again = (await api.get(f"/api/v1/feedback/{item['id']}")).json()
    assert (again["kind"], again["importance"], again["text"]) == ("request", "medium", "PDF export")


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\ud800"])
async def test_control_characters_are_refused_in_bodies(api: httpx.AsyncClient, character: str) -> None:
    # json.dumps escapes each one, as any client library would.
    for path, body in [
        ("/releases", {"title": f"Audit{character}log", "channels": ["C0GENERAL"]}),
        ("/releases", {"title": "Audit", "notes": f"a{character}", "channels": ["C0GENERAL"]}),
        ("/feedback", {"text": f"PDF{character}export"}),
        ("/areas", {"name": f"Bill{character}ing"}),
    ]:
        response = await api.post(
            f"/api/v1{path}", content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (path, response.text)
        assert "control characters" in response.json()["message"]
    fine = await created(
        api, "/releases", {"title": "Audit", "notes": "tab\there\nline", "channels": ["C0GENERAL"]}
    )
    assert fine["notes"] == "tab\there\nline"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/feedback", {"customer": "Acme\x00"}),
        ("/feedback", {"q": "pdf\x00"}),
        ("/feedback.csv", {"q": "pdf\x00"}),
        ("/feedback.csv", {"customer": "\x01"}),
        ("/themes", {"q": "\x00"}),
        ("/areas", {"q": "bill\x00ing"}),
        ("/launches", {"q": "\x1f"}),
    ],
)
async def test_control_characters_are_refused_in_filters(
    api: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await api.get(f"/api/v1{path}", params=params)
    assert response.status_code == 422, response.text
    assert "control characters" in response.json()["message"]


def signed(runtime: Runtime, path: str, position: dict[str, Any]) -> str:
    """A cursor this deployment signed for `path`, around a position no page could end on."""
    return CursorSigner(cursor_key(runtime.settings), scope_of(f"/api/v1{path}", [])).sign(position)


@pytest.mark.parametrize(
    ("path", "position"),
    [
        ("/releases", {"before": True}),
        ("/releases", {"before": BEYOND}),
        ("/themes", {"after": -5}),
        ("/launches", {"after": "1"}),
        ("/areas", {"after": "a" * (MAX_POSITION_TEXT + 1)}),
        ("/areas", {"after": "Not A Slug"}),
        ("/feedback", {"created_at": "2026-01-01T00:00:00", "id": 1}),
        ("/feedback", {"created_at": "9999-12-31T23:59:59-23:59", "id": 1}),
        ("/feedback", {"created_at": "2026-01-01T00:00:00+00:00", "id": 1.5}),
        ("/feedback", {"created_at": "2026-01-01T00:00:00+00:00", "id": BEYOND}),
        ("/jobs", {"run_at": "0001-01-01T00:00:00+05:00", "id": 1}),
        ("/jobs", {"run_at": "\x00", "id": 1}),
        ("/jobs", {"run_at": "yesterday", "id": 1}),
    ],
)
async def test_signed_cursors_past_what_the_database_holds_are_422_with_a_message(
    api: httpx.AsyncClient, runtime: Runtime, path: str, position: dict[str, Any]
) -> None:
    response = await api.get(f"/api/v1{path}", params={"cursor": signed(runtime, path, position)})
    assert response.status_code == 422, response.text
    assert response.json()["message"] == BAD_CURSOR


async def test_times_that_leave_the_calendar_in_utc_are_422(api: httpx.AsyncClient) -> None:
    assert (
        await api.get("/api/v1/feedback", params={"since": "0001-01-01T00:00:00+01:00"})
    ).status_code == 422
    for at in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00"):
        body = {"title": "Audit", "channels": ["C0GENERAL"], "scheduled_at": at}
        assert (await api.post("/api/v1/releases", json=body)).status_code == 422, at


def billion_laughs(levels: int = 9) -> str:
    lines = ['lol: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\nareas:\n- name: Billing\n  tags: *l{levels - 1}\n"


async def test_yaml_aliases_standing_for_billions_of_values_are_refused_within_a_second(
    api: httpx.AsyncClient,
) -> None:
    body = billion_laughs()
    assert len(body) < 1024
    started = time.monotonic()
    response = await api.put("/api/v1/areas:import", content=body, headers=YAML)
    assert response.status_code == 422 and "aliases" in response.json()["message"], response.text
    assert time.monotonic() - started < 1.0
    assert (await api.get("/api/v1/areas")).json()["items"] == []


async def test_yaml_nested_past_any_directory_file_is_refused(api: httpx.AsyncClient) -> None:
    for body in ("areas: " + "[" * 5000 + "]" * 5000, "areas:\n" + "- " * 5000 + "x\n"):
        response = await api.put("/api/v1/areas:import", content=body, headers=YAML)
        assert response.status_code == 422 and "nest" in response.json()["message"], response.text


async def test_yaml_with_a_few_shared_anchors_still_imports(api: httpx.AsyncClient) -> None:
    body = (
        "areas:\n"
        "- {slug: billing, name: Billing, tags: &shared [payments, money]}\n"
        "- {slug: invoices, name: Invoices, tags: *shared}\n"
    )
    response = await api.put("/api/v1/areas:import", content=body, headers=YAML)
    assert response.status_code == 200, response.text
    assert (await api.get("/api/v1/areas/invoices")).json()["tags"] == ["payments", "money"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dGVzdA=="])
async def test_without_a_valid_token_a_malformed_body_is_401_not_422(
    http: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    for body in (b'{"name": ', b"\xff\xfe not utf-8"):
        response = await http.post("/api/v1/areas", content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
    headers["Authorization"] = "Bearer test-admin-token"
    assert (await http.post("/api/v1/areas", content=b'{"name": ', headers=headers)).status_code == 422


async def test_openapi_lists_every_status_an_operation_can_answer(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            expected = {"401", "404", "422", "503"} | ({"409"} if method != "get" else set())
            assert expected <= set(operation["responses"]), (method, path)
            for status in expected:
                assert operation["responses"][status]["content"]["application/json"]["schema"] == error
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain; version=0.0.4; charset=utf-8"]
    served = await http.get("/metrics")
    assert served.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


async def test_csv_export_reads_before_it_answers_so_a_failure_is_never_a_200(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await api.get("/api/v1/feedback.csv", params={"area": "nowhere"})).status_code == 404

    async def unreachable(**_: Any) -> Any:
        raise sa_exc.OperationalError("SELECT", {}, ConnectionRefusedError("database is down"))

    monkeypatch.setattr(feedback_queries, "export_batch", unreachable)
    response = await api.get("/api/v1/feedback.csv")
    assert response.status_code == 503 and response.json()["message"] == DATABASE_DOWN
    assert feedback_api.CSV_COLUMNS[0] not in response.text


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")), 409),
        (sa_exc.DBAPIError("INSERT", {}, type("Truncated", (Exception,), {"sqlstate": "22001"})()), 422),
        (sa_exc.OperationalError("SELECT", {}, Exception("server closed the connection")), 503),
        (sa_exc.InterfaceError("SELECT", {}, Exception("connection is closed")), 503),
    ],
)
async def test_what_the_database_refuses_is_the_callers_input_and_an_outage_is_503(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    async def failing(**_: Any) -> Any:
        raise error

    monkeypatch.setattr(feedback_queries, "list_feedback", failing)
    response = await api.get("/api/v1/feedback")
    assert response.status_code == status, response.text
    assert response.json()["message"]
