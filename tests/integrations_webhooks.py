"""Signed tracker deliveries into the app, a theme with requesters to move, and what Slack got."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from bot.emulator.server import SlackEmulator
from bot.integrations.intake import TRACKER_EVENTS_KIND
from bot.integrations.signatures import sign
from models import Job, WebhookDelivery
from tests.helpers import rendered
from tests.test_feedback_helpers import TEAM, add_areas, count_rows

GITHUB_SECRET = "gh-webhook-secret-4f1c"
LINEAR_SECRET = "lin_wh_9b2e7d"
JIRA_SECRET = "jira-webhook-secret-77aa"
SECRETS: dict[str, Any] = {
    "github_webhook_secret": GITHUB_SECRET,
    "linear_webhook_secret": LINEAR_SECRET,
    "jira_webhook_secret": JIRA_SECRET,
}
AREA_OWNER = "U0CAROL"
REQUESTERS = ("U0BOB", "U0DAVE")

ISSUE_URLS = {
    "github": "https://github.com/acme/app/issues/123",
    "linear": "https://linear.app/acme/issue/ENG-123/bulk-export-to-csv",
    "jira": "https://acme.atlassian.net/browse/PROJ-123",
}


def body_of(payload: object) -> bytes:
    return json.dumps(payload).encode()


SIGNATURE_HEADERS = ("X-Hub-Signature-256", "Linear-Signature", "X-Hub-Signature")


def _signed(headers: dict[str, str], unsigned: bool) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in SIGNATURE_HEADERS} if unsigned else headers


class Trackers:
    """Sends webhooks the way GitHub, Linear and Jira sign them."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def github(
        self,
        event: str,
        payload: object,
        *,
        delivery: str | None = None,
        secret: str = GITHUB_SECRET,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        unsigned: bool = False,
    ) -> httpx.Response:
        raw = body if body is not None else body_of(payload)
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": f"sha256={sign(body=raw, secret=secret)}",
            "User-Agent": "GitHub-Hookshot/a1b2c3",
            **(headers or {}),
        }
        return await self.http.post("/webhooks/github", content=raw, headers=_signed(sent, unsigned))

    async def linear(
        self,
        payload: dict[str, Any],
        *,
        delivery: str | None = None,
        secret: str = LINEAR_SECRET,
        body: bytes | None = None,
        stamp_ms: int | None = None,
        headers: dict[str, str] | None = None,
        unsigned: bool = False,
    ) -> httpx.Response:
        # Linear stamps each delivery with the time it was sent; the suite's pinned clock is "now".
        dated = {**payload, "webhookTimestamp": stamp_ms if stamp_ms is not None else int(time.time() * 1000)}
        raw = body if body is not None else body_of(dated)
        sent = {
            "Content-Type": "application/json; charset=utf-8",
            "Linear-Event": str(payload.get("type", "Issue")),
            "Linear-Delivery": delivery or str(uuid.uuid4()),
            "Linear-Signature": sign(body=raw, secret=secret),
            **(headers or {}),
        }
        return await self.http.post("/webhooks/linear", content=raw, headers=_signed(sent, unsigned))

    async def jira(
        self,
        payload: object,
        *,
        delivery: str | None = None,
        secret: str = JIRA_SECRET,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        unsigned: bool = False,
    ) -> httpx.Response:
        raw = body if body is not None else body_of(payload)
        sent = {
            "Content-Type": "application/json",
            # Jira's delivery identifiers are numbers.
            "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4().int % 10**12),
            "X-Hub-Signature": f"sha256={sign(body=raw, secret=secret)}",
            **(headers or {}),
        }
        return await self.http.post("/webhooks/jira", content=raw, headers=_signed(sent, unsigned))


@dataclass
class Tracked:
    """A theme in the Bulk export area (owned by Carol), asked for in two threads by Bob and Dave."""

    theme_id: int
    link_id: int
    messages: list[dict[str, Any]]


async def tracked_theme(
    api: httpx.AsyncClient, emulator: SlackEmulator, runtime: Runtime, *, url: str, title: str = "Bulk export"
) -> Tracked:
    await add_areas(runtime)
    theme = await api.post("/api/v1/themes", json={"title": title, "area": "bulk-export"})
    assert theme.status_code == 201, theme.text
    theme_id = int(theme.json()["id"])
    messages = []
    for user, text, customer in (
        ("U0BOB", "Acme needs bulk export", "Acme"),
        ("U0DAVE", "CSV please", "Globex"),
    ):
        message = emulator.add_message("C0GENERAL", user, text)
        messages.append(message)
        created = await api.post(
            "/api/v1/feedback",
            json={
                "text": text,
                "customer": customer,
                "theme_id": theme_id,
                "channel": "C0GENERAL",
                "message_ts": message["ts"],
                "author": user,
                "reporter": user,
            },
        )
        assert created.status_code == 201, created.text
    link = await api.post(f"/api/v1/themes/{theme_id}/links", json={"url": url})
    assert link.status_code == 201, link.text
    return Tracked(theme_id=theme_id, link_id=int(link.json()["id"]), messages=messages)


async def status_of(api: httpx.AsyncClient, theme_id: int) -> str:
    response = await api.get(f"/api/v1/themes/{theme_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def set_status(api: httpx.AsyncClient, theme_id: int, status: str) -> None:
    response = await api.patch(f"/api/v1/themes/{theme_id}", json={"status": status})
    assert response.status_code == 200, response.text


async def run_all(run_jobs: Any) -> int:
    """Scheduler passes until nothing is due: a job's follow-up work runs on the next pass."""
    total = 0
    for _ in range(10):
        ran = int(await run_jobs())
        if not ran:
            return total
        total += ran
    raise AssertionError("jobs kept coming")


def dms(emulator: SlackEmulator, user: str) -> list[Any]:
    return emulator.calls_to("chat.postMessage", channel=user)


def said(call: Any) -> str:
    """The notification text and everything the blocks render."""
    return f"{call['text']}\n{rendered(call['blocks'])}"


async def delivery_jobs(runtime: Runtime) -> int:
    async with unit_of_work(runtime.session_factory) as session:
        return int(
            await session.scalar(select(func.count()).select_from(Job).where(Job.kind == TRACKER_EVENTS_KIND))
            or 0
        )


async def deliveries(runtime: Runtime) -> int:
    return await count_rows(runtime, WebhookDelivery)


__all__ = ["TEAM"]
