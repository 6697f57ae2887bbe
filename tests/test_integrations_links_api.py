"""`/api/v1/themes/{id}/links`: track a theme in a GitHub, Linear or Jira issue; its history says so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.integrations import service as link_service
from bot.integrations.links import ACCEPTED
from models import Theme, ThemeLink
from tests.test_feedback_helpers import count_rows

OTHER_TEAM = "T0OTHER"


async def make_theme(api: httpx.AsyncClient, title: str = "Bulk export", **extra: Any) -> int:
    response = await api.post("/api/v1/themes", json={"title": title, **extra})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize(
    ("url", "provider", "key", "canonical"),
    [
        (
            "github.com/Acme/App/issues/123#issuecomment-1",
            "github",
            "acme/app#123",
            "https://github.com/Acme/App/issues/123",
        ),
        (
            "<https://linear.app/acme/issue/eng-123/bulk-export|ENG-123>",
            "linear",
            "ENG-123",
            "https://linear.app/acme/issue/ENG-123",
        ),
        (
            "https://acme.atlassian.net/jira/software/projects/PROJ/issues/PROJ-123",
            "jira",
            "PROJ-123",
            "https://acme.atlassian.net/browse/PROJ-123",
        ),
    ],
)
async def test_a_pasted_tracker_url_becomes_a_link_and_plans_an_open_theme(
    url: str, provider: str, key: str, canonical: str, api: httpx.AsyncClient
) -> None:
    theme_id = await make_theme(api)

    created = await api.post(f"/api/v1/themes/{theme_id}/links", json={"url": url})

    assert created.status_code == 201, created.text
    link = created.json()
    assert (link["provider"], link["key"], link["url"], link["state"]) == (provider, key, canonical, "open")
    assert link["created_by"] == "api:env"
    assert created.headers["Location"] == f"/api/v1/themes/{theme_id}/links/{link['id']}"
    theme = (await api.get(f"/api/v1/themes/{theme_id}")).json()
    assert theme["status"] == "planned"
    assert [(x["key"], x["url"]) for x in theme["links"]] == [(key, canonical)]


async def test_the_same_issue_twice_is_one_link(api: httpx.AsyncClient, runtime: Runtime) -> None:
    theme_id = await make_theme(api)
    first = await api.post(
        f"/api/v1/themes/{theme_id}/links", json={"url": "https://github.com/acme/app/issues/7"}
    )
    again = await api.post(f"/api/v1/themes/{theme_id}/links", json={"url": "github.com/ACME/app/issues/7/"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert await count_rows(runtime, ThemeLink) == 1


async def test_a_link_that_names_no_tracker_issue_is_422_with_what_is_accepted(
    api: httpx.AsyncClient,
) -> None:
    theme_id = await make_theme(api)
    for bad in ("https://example.com/issues/1", "not a url", "https://github.com/acme/app/pulls", "x" * 1200):
        response = await api.post(f"/api/v1/themes/{theme_id}/links", json={"url": bad})
        assert response.status_code == 422, bad
        assert ACCEPTED in response.json()["message"]
    assert (await api.post(f"/api/v1/themes/{theme_id}/links", json={})).status_code == 422
    assert (await api.post(f"/api/v1/themes/{theme_id}/links", json={"url": 5})).status_code == 422
    assert (await api.get(f"/api/v1/themes/{theme_id}")).json()["status"] == "open"


async def test_unknown_or_other_workspace_themes_are_404(api: httpx.AsyncClient, runtime: Runtime) -> None:
    async with unit_of_work(runtime.session_factory) as session:
        theirs = Theme(team_id=OTHER_TEAM, title="Their theme")
        session.add(theirs)
        await session.flush()
        their_id = theirs.id
        their_link, _ = await link_service.add_link(
            session=session, team_id=OTHER_TEAM, theme_id=their_id, url="https://github.com/acme/app/issues/1"
        )
        their_link_id = their_link.id
    url = {"url": "https://github.com/acme/app/issues/1"}
    assert (await api.post("/api/v1/themes/424242/links", json=url)).status_code == 404
    assert (await api.post(f"/api/v1/themes/{their_id}/links", json=url)).status_code == 404
    assert (await api.delete(f"/api/v1/themes/{their_id}/links/{their_link_id}")).status_code == 404
    mine = await make_theme(api)
    assert (await api.delete(f"/api/v1/themes/{mine}/links/{their_link_id}")).status_code == 404
    assert await count_rows(runtime, ThemeLink) == 1


async def test_removing_a_link_keeps_the_status_and_the_history_shows_both(api: httpx.AsyncClient) -> None:
    theme_id = await make_theme(api)
    link = (
        await api.post(
            f"/api/v1/themes/{theme_id}/links", json={"url": "https://linear.app/acme/issue/ENG-9"}
        )
    ).json()

    removed = await api.delete(f"/api/v1/themes/{theme_id}/links/{link['id']}")

    assert removed.status_code == 204
    theme = (await api.get(f"/api/v1/themes/{theme_id}")).json()
    assert (theme["links"], theme["status"]) == ([], "planned")
    history = (await api.get(f"/api/v1/themes/{theme_id}/history")).json()
    assert [(e["kind"], e["to_status"], e["actor"], e["reason"]) for e in history] == [
        ("linked", None, "api:env", "ENG-9"),
        ("status", "planned", "api:env", "tracked in ENG-9"),
        ("unlinked", None, "api:env", "ENG-9"),
    ]
    assert history[1]["from_status"] == "open"
    assert (await api.get("/api/v1/themes/424242/history")).status_code == 404


async def test_a_status_changed_by_hand_is_in_the_history(api: httpx.AsyncClient) -> None:
    theme_id = await make_theme(api)
    assert (await api.patch(f"/api/v1/themes/{theme_id}", json={"status": "done"})).json()["status"] == "done"
    await api.post(f"/api/v1/themes/{theme_id}/ship", json={"release_title": "Release 42"})
    history = (await api.get(f"/api/v1/themes/{theme_id}/history")).json()
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in history] == [
        ("open", "done", "changed by hand"),
        ("done", "shipped", "Release 42"),
    ]


async def test_merging_moves_links_to_the_theme_it_became_once(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    source, target = await make_theme(api, "CSV export"), await make_theme(api, "Bulk export")
    for theme_id, number in ((source, 1), (source, 2), (target, 2)):
        response = await api.post(
            f"/api/v1/themes/{theme_id}/links", json={"url": f"https://github.com/acme/app/issues/{number}"}
        )
        assert response.status_code == 201

    merged = await api.post(f"/api/v1/themes/{source}/merge", json={"into": target})

    assert merged.status_code == 200, merged.text
    assert sorted(x["key"] for x in merged.json()["links"]) == ["acme/app#1", "acme/app#2"]
    assert (await api.get(f"/api/v1/themes/{source}")).json()["links"] == []
    # A link added to the merged theme lands on the theme it became.
    late = await api.post(
        f"/api/v1/themes/{source}/links", json={"url": "https://github.com/acme/app/issues/3"}
    )
    assert late.status_code == 201
    assert len((await api.get(f"/api/v1/themes/{target}")).json()["links"]) == 3
    assert await count_rows(runtime, ThemeLink) == 3
