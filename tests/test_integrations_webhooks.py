"""`POST /webhooks/github|linear|jira` end to end: signatures, redeliveries, bad bodies, never a 5xx."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from bot.core.runtime import Runtime
from bot.core.settings import SettingsError, load_settings
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.integrations.webhooks import MAX_BODY_BYTES
from models import WebhookDelivery
from models.base import utcnow
from tests.integrations_payloads import STATE_CHANGED, github_issue, jira_issue, linear_issue
from tests.integrations_webhooks import (
    GITHUB_SECRET,
    ISSUE_URLS,
    JIRA_SECRET,
    LINEAR_SECRET,
    SECRETS,
    Trackers,
    deliveries,
    delivery_jobs,
    dms,
    run_all,
    status_of,
    tracked_theme,
)

Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(SECRETS)


@pytest.fixture
def trackers(http: httpx.AsyncClient) -> Trackers:
    return Trackers(http)


def closing(provider: str) -> tuple[Callable[[Trackers], Send], dict[str, Any], tuple[Any, ...]]:
    """How each tracker says "issue 123 was completed": the sender, its payload, extra arguments."""
    if provider == "github":
        return (lambda t: t.github), github_issue("closed", state_reason="completed"), ("issues",)
    if provider == "linear":
        return (lambda t: t.linear), linear_issue("update", "completed", updated_from=STATE_CHANGED), ()
    return (lambda t: t.jira), jira_issue(status="Done", previous="In Progress", resolution="Done"), ()


async def send(trackers: Trackers, provider: str, **kwargs: Any) -> httpx.Response:
    sender, payload, extra = closing(provider)
    return await sender(trackers)(*extra, payload, **kwargs)


PROVIDERS = ["github", "linear", "jira"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_signed_delivery_is_queued_then_moves_the_theme(
    provider: str,
    trackers: Trackers,
    api: httpx.AsyncClient,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS[provider])
    emulator.reset_calls()

    response = await send(trackers, provider)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    assert emulator.calls == [], "the endpoint only queues; Slack hears from the scheduler"
    assert await status_of(api, theme.theme_id) == "planned"
    await run_all(run_jobs)
    assert await status_of(api, theme.theme_id) == "done"
    [told] = dms(emulator, "U0CAROL")
    assert "*Bulk export* is done and ships with the next release" in json.dumps(told["blocks"])


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_bad_or_missing_signature_is_401_and_queues_nothing(
    provider: str, trackers: Trackers, api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS[provider])
    header = {"github": "X-Hub-Signature-256", "linear": "Linear-Signature", "jira": "X-Hub-Signature"}[
        provider
    ]

    wrong = await send(trackers, provider, secret="not-the-secret")
    missing = await send(trackers, provider, unsigned=True)
    blank = await send(trackers, provider, headers={header: ""})
    garbled = await send(trackers, provider, headers={header: "sha256=zz"})

    for response, reason in (
        (wrong, "signature_mismatch"),
        (missing, "header_missing"),
        (blank, "header_malformed"),
        (garbled, "header_malformed"),
    ):
        assert response.status_code == 401, response.text
        body = response.json()
        assert (body["error"], body["reason"]) == ("unauthorized", reason)
        assert header in body["message"]
        for secret in (GITHUB_SECRET, LINEAR_SECRET, JIRA_SECRET):
            assert secret not in response.text
    assert (await delivery_jobs(runtime), await deliveries(runtime)) == (0, 0)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_endpoint_without_its_secret_refuses_even_a_signed_delivery(
    provider: str, trackers: Trackers, api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS[provider])
    runtime.settings = runtime.settings.model_copy(update={f"{provider}_webhook_secret": None})

    response = await send(trackers, provider)

    assert response.status_code == 401
    assert response.json()["reason"] == "secret_unset"
    assert await delivery_jobs(runtime) == 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_redelivery_is_already_received_and_does_nothing_twice(
    provider: str,
    trackers: Trackers,
    api: httpx.AsyncClient,
    emulator: SlackEmulator,
    runtime: Runtime,
    run_jobs: Any,
) -> None:
    theme = await tracked_theme(api, emulator, runtime, url=ISSUE_URLS[provider])
    delivery = "1364478" if provider == "jira" else "9f0c7a4e-2b1d-4c3e-8f5a-6b7c8d9e0f1a"

    first = await send(trackers, provider, delivery=delivery)
    await run_all(run_jobs)
    again = await send(trackers, provider, delivery=delivery)
    await run_all(run_jobs)

    assert first.status_code == 202
    assert again.status_code == 200 and again.json() == {
        "status": "duplicate",
        "message": "Already received.",
        "delivery": delivery,
    }
    assert (await delivery_jobs(runtime), await deliveries(runtime)) == (1, 1)
    assert len(dms(emulator, "U0CAROL")) == 1
    history = (await api.get(f"/api/v1/themes/{theme.theme_id}/history")).json()
    assert [e["to_status"] for e in history if e["kind"] == "status"] == ["planned", "done"]


async def test_an_event_about_an_issue_no_theme_tracks_is_ignored_with_200(
    trackers: Trackers, runtime: Runtime
) -> None:
    response = await trackers.github("issues", github_issue("closed", number=999, state_reason="completed"))
    ignored = await trackers.github("push", {"ref": "refs/heads/main"})
    assert (response.status_code, ignored.status_code) == (200, 200)
    assert response.json()["status"] == "ignored"
    assert (await delivery_jobs(runtime), await deliveries(runtime)) == (0, 0)


async def test_github_form_encoded_delivery_is_read_from_its_payload_field(
    trackers: Trackers, api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    raw = urlencode({"payload": json.dumps(github_issue("assigned"))}).encode()
    response = await trackers.github(
        "issues", None, body=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 202, response.text


SIGNED_BUT_BROKEN = [
    b"not json",
    b"\xff\xfe\x00",
    b"[1, 2, 3]",
    b'"a string"',
    b"{" * 100_000,
    json.dumps(
        {"action": "closed", "issue": {"number": "123"}, "repository": {"full_name": "acme/app"}}
    ).encode(),
    json.dumps(
        {"action": "closed", "issue": {"number": 1, "state_reason": None}, "repository": None}
    ).encode(),
    json.dumps(
        {"action": "closed", "issue": {"number": 1}, "repository": {"full_name": "not a repo"}}
    ).encode(),
]


@pytest.mark.parametrize("body", SIGNED_BUT_BROKEN, ids=range(len(SIGNED_BUT_BROKEN)))
async def test_a_signed_body_that_is_not_the_documented_json_is_400(
    body: bytes, trackers: Trackers, runtime: Runtime
) -> None:
    response = await trackers.github("issues", None, body=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request" and response.json()["message"]
    assert await delivery_jobs(runtime) == 0


async def test_signed_linear_and_jira_bodies_of_the_wrong_shape_are_400(trackers: Trackers) -> None:
    linear_broken = await trackers.linear({"type": "Issue", "action": "update", "data": {"identifier": 7}})
    linear_not_json = await trackers.linear({}, body=b"{oops")
    jira_broken = await trackers.jira({"webhookEvent": "jira:issue_updated", "issue": {"key": "not a key"}})
    assert [r.status_code for r in (linear_broken, linear_not_json, jira_broken)] == [400, 400, 400]


async def test_a_linear_delivery_signed_more_than_a_minute_ago_is_refused(
    trackers: Trackers, api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime
) -> None:
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["linear"])
    payload = linear_issue("update", "started", updated_from=STATE_CHANGED)
    stale = await trackers.linear(payload, stamp_ms=int((time.time() - 120) * 1000))
    fresh = await trackers.linear(payload, stamp_ms=int((time.time() - 30) * 1000))
    assert stale.status_code == 401 and stale.json()["reason"] == "timestamp_stale"
    assert fresh.status_code == 202


async def test_a_body_over_the_limit_is_413_before_any_check(
    trackers: Trackers, http: httpx.AsyncClient
) -> None:
    huge = b"{" + b" " * MAX_BODY_BYTES + b"}"
    signed = await trackers.github("issues", None, body=huge)
    unsigned = await http.post("/webhooks/jira", content=huge)

    async def chunks() -> Any:
        for _ in range(3):
            yield b" " * (MAX_BODY_BYTES // 2)

    streamed = await http.post("/webhooks/linear", content=chunks())
    assert [r.status_code for r in (signed, unsigned, streamed)] == [413, 413, 413]


ABUSE = [
    ("github", {}, b""),
    ("github", {"X-Hub-Signature-256": "sha256=" + "0" * 64}, b"{}"),
    ("github", {"X-Hub-Signature-256": "sha1=abc", "X-GitHub-Event": "issues"}, b"{}"),
    ("linear", {"Linear-Signature": "\u00e9" * 64}, b"{}"),
    ("linear", {"Linear-Signature": "0" * 64, "Linear-Delivery": "../../etc"}, b"\x00\x01"),
    ("jira", {"X-Hub-Signature": "sha256=" + "f" * 64, "Content-Type": "text/plain"}, b"<xml/>"),
    ("jira", {"Content-Length": "abc"}, b"{}"),
]


@pytest.mark.parametrize(("provider", "headers", "body"), ABUSE, ids=range(len(ABUSE)))
async def test_unsigned_or_forged_deliveries_are_refused_never_a_5xx(
    provider: str, headers: dict[str, str], body: bytes, http: httpx.AsyncClient, runtime: Runtime
) -> None:
    try:
        response = await http.post(f"/webhooks/{provider}", content=body, headers=headers)
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        return  # the client itself refuses a header no server would see
    assert response.status_code in (400, 401, 413), response.text
    assert response.json()["message"]
    assert await delivery_jobs(runtime) == 0


async def test_webhooks_need_no_admin_token_and_an_admin_token_is_no_signature(
    trackers: Trackers, http: httpx.AsyncClient
) -> None:
    as_admin = await http.post(
        "/webhooks/github",
        content=b"{}",
        headers={"Authorization": "Bearer test-admin-token", "X-GitHub-Event": "issues"},
    )
    assert as_admin.status_code == 401
    assert (await trackers.github("ping", {"zen": "Keep it logically awesome."})).status_code == 200


def test_tracker_settings_are_optional_secrets_and_checked_user_ids() -> None:
    settings = load_settings(
        _env_file=None,
        github_webhook_secret="s3cret",
        linear_webhook_secret="  ",
        ship_on_issue_close="true",
        release_draft_owner="U0ERIN",
    )
    assert settings.github_webhook_secret is not None and "s3cret" not in repr(settings)
    assert settings.linear_webhook_secret is None, "a blank secret is no secret"
    assert (settings.ship_on_issue_close, settings.release_draft_owner, settings.release_draft_approver) == (
        True,
        "U0ERIN",
        None,
    )
    assert load_settings(_env_file=None).ship_on_issue_close is False
    with pytest.raises(SettingsError, match="^RELEASE_DRAFT_APPROVER: must be a Slack user id"):
        load_settings(_env_file=None, release_draft_approver="@frank")


async def test_old_applied_deliveries_are_forgotten_and_recent_ones_kept(
    runtime: Runtime, run_jobs: Any
) -> None:
    now = utcnow()
    async with unit_of_work(runtime.session_factory) as session:
        for delivery_id, age in (("old", 31), ("recent", 2)):
            session.add(
                WebhookDelivery(
                    team_id="",
                    provider="github",
                    delivery_id=delivery_id,
                    received_at=now - timedelta(days=age),
                    processed_at=now - timedelta(days=age),
                )
            )
    await run_jobs()
    async with unit_of_work(runtime.session_factory) as session:
        kept = (await session.scalars(select(WebhookDelivery.delivery_id))).all()
    assert kept == ["recent"]


async def test_the_same_delivery_arriving_twice_at_once_is_queued_once(
    trackers: Trackers, api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, run_jobs: Any
) -> None:
    await tracked_theme(api, emulator, runtime, url=ISSUE_URLS["github"])
    delivery = "5d3c1e2a-0b9f-4e8d-a7c6-b5a4f3e2d1c0"
    answers = await asyncio.gather(*(send(trackers, "github", delivery=delivery) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 202]
    assert (await delivery_jobs(runtime), await deliveries(runtime)) == (1, 1)
    await run_all(run_jobs)
    assert len(dms(emulator, "U0CAROL")) == 1
