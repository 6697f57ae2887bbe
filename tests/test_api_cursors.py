"""The admin API's page cursors, on SQLite and PostgreSQL: paging through every list returns each
item exactly once; a cursor is signed and bound to its list and filters, so a changed byte, a
cursor of another list or other filters, another deployment's cursor, and anything else that is
not a cursor this API returned are a 422 with a clear message, never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.api.cursors import (
    BAD_CURSOR,
    FOREIGN_CURSOR,
    MAX_CURSOR_LENGTH,
    CursorSigner,
    cursor_key,
    scope_of,
)
from bot.core.runtime import Runtime
from bot.core.settings import load_settings
from bot.core.uow import unit_of_work
from bot.scheduler.jobs import enqueue
from models import StandupRun
from models.base import utcnow

TEAM = "T0SWITCH"
COUNT = 5


async def made(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
    response = await api.post(f"/api/v1{path}", json=body)
    assert response.status_code == 201, response.text
    return response.json().get("id")


def launch(name: str) -> dict[str, Any]:
    target = (utcnow().date() + timedelta(days=30)).isoformat()
    return {"name": name, "target_date": target, "owner": "U0ALICE", "channel": "C0GENERAL"}


async def add_areas(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    for name in ("Search", "Billing", "Auth", "Exports", "Onboarding"):
        await made(api, "/areas", {"name": name})
    return "/areas", {}


async def add_feedback(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    # Logged within the same second: the page boundary falls between items of equal time.
    for n in range(COUNT):
        await made(api, "/feedback", {"text": f"Request {n}", "kind": "request"})
    await made(api, "/feedback", {"text": "Not a request", "kind": "bug"})
    return "/feedback", {"kind": "request"}


async def add_themes(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    for n in range(COUNT):
        await made(api, "/themes", {"title": f"Theme {n}"})
    return "/themes", {}


async def add_launches(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon"):
        await made(api, "/launches", launch(name))
    return "/launches", {"status": "planning"}


async def add_standups(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    launch_id = await made(api, "/launches", launch("Checkout"))
    now = utcnow()
    async with unit_of_work(runtime.session_factory) as session:
        for day in range(COUNT):
            when = now + timedelta(days=day)
            session.add(
                StandupRun(
                    team_id=TEAM,
                    launch_id=launch_id,
                    scheduled_for=when,
                    local_date=when.date(),
                    expires_at=when + timedelta(hours=12),
                )
            )
    return f"/launches/{launch_id}/standups", {}


async def add_releases(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    for n in range(COUNT):
        await made(api, "/releases", {"title": f"Release {n}", "channels": ["C0GENERAL"], "owner": "U0BOB"})
    return "/releases", {"status": "draft"}


async def add_jobs(api: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, str]]:
    now = utcnow()
    async with unit_of_work(runtime.session_factory) as session:
        # Two due at the same moment: the boundary falls between jobs of equal time.
        for key, minutes in [("c", 30), ("a", 10), ("d", 40), ("b", 10), ("e", 5)]:
            run_at = now + timedelta(minutes=minutes)
            await enqueue(session=session, team_id=TEAM, kind="test.job", key=key, run_at=run_at)
    return "/jobs", {}


@dataclass(frozen=True)
class Listing:
    add: Callable[[httpx.AsyncClient, Runtime], Awaitable[tuple[str, dict[str, str]]]]
    key: str = "id"


LISTS = {
    "areas": Listing(add_areas, key="slug"),
    "feedback": Listing(add_feedback),
    "themes": Listing(add_themes),
    "launches": Listing(add_launches),
    "standups": Listing(add_standups),
    "releases": Listing(add_releases),
    "jobs": Listing(add_jobs),
}


async def page_through(api: httpx.AsyncClient, path: str, filters: dict[str, str], limit: int) -> list[Any]:
    """Every item of a list, a page of `limit` at a time, as the pages gave them."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        params = {**filters, "limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await api.get(f"/api/v1{path}", params=params)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


async def first_cursor(api: httpx.AsyncClient, path: str, filters: dict[str, str]) -> str:
    response = await api.get(f"/api/v1{path}", params={**filters, "limit": 2})
    assert response.status_code == 200, response.text
    cursor: str = response.json()["next_cursor"]
    assert cursor
    return cursor


async def refused(api: httpx.AsyncClient, path: str, params: dict[str, Any]) -> str:
    response = await api.get(f"/api/v1{path}", params=params)
    assert response.status_code == 422, (params, response.text)
    assert response.json()["error"] == "invalid_request"
    message: str = response.json()["message"]
    assert "cursor" in message
    return message


@pytest.mark.parametrize("name", list(LISTS))
async def test_paging_through_a_list_returns_every_item_exactly_once(
    api: httpx.AsyncClient, runtime: Runtime, name: str
) -> None:
    listing = LISTS[name]
    path, filters = await listing.add(api, runtime)
    everything = (await api.get(f"/api/v1{path}", params={**filters, "limit": 500})).json()
    assert len(everything["items"]) == COUNT and everything["next_cursor"] is None
    for limit in (1, 2, COUNT - 1, COUNT):
        paged = await page_through(api, path, filters, limit)
        assert [item[listing.key] for item in paged] == [item[listing.key] for item in everything["items"]]


async def test_limit_may_change_between_pages(api: httpx.AsyncClient, runtime: Runtime) -> None:
    path, filters = await add_feedback(api, runtime)
    first = (await api.get(f"/api/v1{path}", params={**filters, "limit": 1})).json()
    rest = await api.get(f"/api/v1{path}", params={**filters, "limit": 10, "cursor": first["next_cursor"]})
    assert rest.status_code == 200 and len(rest.json()["items"]) == COUNT - 1


@pytest.mark.parametrize("name", ["feedback", "jobs", "areas"])
async def test_a_cursor_with_any_byte_changed_is_422(
    api: httpx.AsyncClient, runtime: Runtime, name: str
) -> None:
    path, filters = await LISTS[name].add(api, runtime)
    cursor = await first_cursor(api, path, filters)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    for at in range(len(raw)):
        for flip in (0x01, 0x80):
            changed = raw[:at] + bytes([raw[at] ^ flip]) + raw[at + 1 :]
            tampered = base64.urlsafe_b64encode(changed).decode().rstrip("=")
            assert await refused(api, path, {**filters, "cursor": tampered}) == BAD_CURSOR
    # Every other spelling of a character, the spare low bits of the last one included.
    for at in range(len(cursor)):
        other = "A" if cursor[at] != "A" else "B"
        tampered = cursor[:at] + other + cursor[at + 1 :]
        assert await refused(api, path, {**filters, "cursor": tampered}) == BAD_CURSOR
    for tampered in (cursor[:-1], cursor + "A", cursor + "=", cursor[1:]):
        assert await refused(api, path, {**filters, "cursor": tampered}) == BAD_CURSOR


async def test_a_cursor_is_refused_by_other_filters_and_other_lists(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    await add_feedback(api, runtime)
    await add_releases(api, runtime)
    requests = await first_cursor(api, "/feedback", {"kind": "request"})
    for path, params in [
        ("/feedback", {"kind": "bug"}),
        ("/feedback", {}),
        ("/feedback", {"kind": "request", "q": "Request"}),
        ("/feedback", {"kind": "request", "team_id": TEAM}),
        ("/releases", {"kind": "request"}),
        ("/themes", {"kind": "request"}),
        ("/jobs", {}),
    ]:
        assert await refused(api, path, {**params, "cursor": requests}) == FOREIGN_CURSOR
    drafts = await first_cursor(api, "/releases", {"status": "draft"})
    assert await refused(api, "/releases", {"cursor": drafts}) == FOREIGN_CURSOR
    # Repeated parameters in another order page the same list.
    again = await api.get(
        "/api/v1/feedback", params=[("limit", "2"), ("kind", "request"), ("cursor", requests)]
    )
    assert again.status_code == 200


async def test_a_standup_cursor_is_refused_on_another_launch(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    path, _ = await add_standups(api, runtime)
    cursor = await first_cursor(api, path, {})
    other = await made(api, "/launches", launch("Other"))
    assert await refused(api, f"/launches/{other}/standups", {"cursor": cursor}) == FOREIGN_CURSOR


async def test_a_cursor_signed_with_another_key_is_422(api: httpx.AsyncClient, runtime: Runtime) -> None:
    await add_themes(api, runtime)
    elsewhere = CursorSigner(b"another deployment's key".ljust(32), scope_of("/api/v1/themes", []))
    assert await refused(api, "/themes", {"cursor": elsewhere.sign({"after": 1})}) == BAD_CURSOR
    unsigned = base64.urlsafe_b64encode(json.dumps({"after": 1}).encode()).decode().rstrip("=")
    assert await refused(api, "/themes", {"cursor": unsigned}) == BAD_CURSOR


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "\x00",
        "AAAA\x00AAAA",
        "é" * 10,
        "====",
        "A",
        "A" * MAX_CURSOR_LENGTH,
        "+/+/",
        "AAAA\nAAAA",
    ],
)
@pytest.mark.parametrize("path", ["/feedback", "/areas", "/jobs"])
async def test_garbage_cursors_are_422_with_a_message(api: httpx.AsyncClient, path: str, cursor: str) -> None:
    assert await refused(api, path, {"cursor": cursor}) == BAD_CURSOR


@pytest.mark.parametrize("size", [MAX_CURSOR_LENGTH + 1, 60_000])
async def test_oversized_cursors_are_422(api: httpx.AsyncClient, size: int) -> None:
    message = await refused(api, "/releases", {"cursor": "A" * size})
    assert str(MAX_CURSOR_LENGTH) in message


def test_cursor_key_is_stable_per_secret_and_prefers_the_secret_key() -> None:
    base: dict[str, Any] = {"_env_file": None, "database_url": "sqlite:///:memory:"}
    signing = load_settings(**base, slack_signing_secret="s" * 32)
    both = load_settings(**base, slack_signing_secret="s" * 32, switchboard_secret_key="k" * 40)
    rotated = load_settings(
        **base, slack_signing_secret="s" * 32, switchboard_secret_key="k" * 40 + "," + "o" * 40
    )
    neither = load_settings(**base)
    assert cursor_key(signing) == cursor_key(load_settings(**base, slack_signing_secret="s" * 32))
    assert cursor_key(both) != cursor_key(signing)
    assert cursor_key(rotated) == cursor_key(both)
    assert cursor_key(neither) == cursor_key(load_settings(**base))
    assert len({cursor_key(neither), cursor_key(signing), cursor_key(both)}) == 3
    # The key is derived: no secret is used as it is.
    assert b"s" * 32 not in cursor_key(signing) and b"k" * 40 not in cursor_key(both)


def test_the_scope_ignores_cursor_limit_and_parameter_order() -> None:
    one = scope_of("/api/v1/launches", [("status", "a"), ("status", "b"), ("limit", "2"), ("cursor", "x")])
    other = scope_of("/api/v1/launches", [("status", "b"), ("status", "a")])
    assert one == other
    assert scope_of("/api/v1/launches", [("status", "a")]) != one
    assert scope_of("/api/v1/themes", [("status", "a"), ("status", "b")]) != one
