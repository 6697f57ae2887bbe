"""schemathesis over every operation of the OpenAPI document, valid and invalid input alike, with
seeded rows so that generated ids and slugs reach real items: no answer is a 5xx, and every answer
(status, content type, headers, body) is one the document describes.

Runs on SQLite and, with SWITCHBOARD_TEST_POSTGRES_URL, on PostgreSQL. Generation is seeded, so a
run is reproducible; SWITCHBOARD_FUZZ_EXAMPLES raises the examples per operation for a longer hunt.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Coroutine
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

# A development dependency: without it the rest of the suite still runs.
pytest.importorskip("schemathesis")

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig  # noqa: E402

from bot.api.auth import API_PREFIX  # noqa: E402
from bot.api.deps import TEAM_ID_PATTERN  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from bot.emulator.driver import SIGNING_SECRET  # noqa: E402
from bot.emulator.state import BOT_TOKEN, TEAM_ID  # noqa: E402
from bot.web import create_app  # noqa: E402

SEED = 20_611
EXAMPLES = int(os.environ.get("SWITCHBOARD_FUZZ_EXAMPLES", "20"))
TOKEN = "test-admin-token"
BASE_URL = "http://switchboard.test"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
HYPOTHESIS = settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=False)


def _document() -> dict[str, Any]:
    """The document the app serves; building it needs neither a database nor Slack."""
    values: dict[str, Any] = {
        "database_url": "sqlite+aiosqlite:///:memory:",
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "_env_file": None,
    }
    return create_app(load_settings(**values), manage_schema=False, scheduler=False).openapi()


def _config(*, examples: int, coverage: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": examples, "database": "none"},
            "phases": {"coverage": {"enabled": coverage}},
        }
    )


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=_config(examples=EXAMPLES, coverage=True))
api_only = schemathesis.openapi.from_dict(DOCUMENT, config=_config(examples=3, coverage=False)).include(
    path_regex=f"^{API_PREFIX}/"
)


@pytest.fixture
async def app_loop(app: Any) -> asyncio.AbstractEventLoop:
    """The loop the app (and its database connections) run on; generated cases are sent on it."""
    return asyncio.get_running_loop()


@pytest.fixture
async def seeded(api: httpx.AsyncClient) -> None:
    """A few rows of every kind, so that small generated ids and slugs find something."""

    async def create(path: str, body: dict[str, Any]) -> int:
        response = await api.post(f"{API_PREFIX}{path}", json=body)
        assert response.status_code == 201, response.text
        return int(response.json().get("id", 0))

    await create("/areas", {"name": "Billing", "slug": "a", "owner": "U0BOB"})
    await create("/areas", {"name": "Search", "slug": "0"})
    theme = await create("/themes", {"title": "PDF invoices", "area": "a"})
    for n in range(3):
        await create("/feedback", {"text": f"Invoices as PDF {n}", "area": "a", "theme_id": theme})
    target = (date.today() + timedelta(days=30)).isoformat()
    launch = await create(
        "/launches", {"name": "Checkout", "target_date": target, "owner": "U0ALICE", "channel": "C0GENERAL"}
    )
    await create("/releases", {"title": "Audit log", "channels": ["C0GENERAL"], "launch_id": launch})


def _request(case: Any, *, token: str | None) -> dict[str, Any]:
    """httpx arguments for `case`; a generated team_id of the right shape names the served one."""
    if isinstance(case.query, dict) and re.match(TEAM_ID_PATTERN, str(case.query.get("team_id", ""))):
        case.query["team_id"] = TEAM_ID
    sent = case.as_transport_kwargs(base_url=BASE_URL)
    headers = dict(sent.get("headers") or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "headers": headers,
        "params": sent.get("params"),
    }
    if "json" in sent:
        request["content"] = json.dumps(sent["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "data" in sent:
        data = sent["data"]
        request["content"] = data.encode() if isinstance(data, str) else data
    return request


def _send(loop: asyncio.AbstractEventLoop, call: Coroutine[Any, Any, httpx.Response]) -> httpx.Response:
    return loop.run_until_complete(call)


@schema.parametrize()
@HYPOTHESIS
def test_no_answer_is_a_server_error_and_every_answer_is_documented(
    case: Any, api: httpx.AsyncClient, seeded: None, app_loop: asyncio.AbstractEventLoop
) -> None:
    response = _send(app_loop, api.request(**_request(case, token=TOKEN)))
    case.validate_response(response, checks=CHECKS)


@api_only.parametrize()
@HYPOTHESIS
def test_without_a_valid_token_every_api_operation_answers_401(
    case: Any, http: httpx.AsyncClient, app_loop: asyncio.AbstractEventLoop
) -> None:
    response = _send(app_loop, http.request(**_request(case, token=None)))
    assert response.status_code == 401, (case.method, case.path, response.status_code, response.text)
    case.validate_response(response, checks=CHECKS)
