"""A real PostgreSQL behind a fault-injecting proxy: refused, partitioned and reset connections give
prompt, plain 503s (/readyz within 2 s, the admin API within 5 s), an answered error leaves nothing
written, and service resumes once the database answers again."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bot.api.errors import DATABASE_DOWN
from bot.core.db import create_engine, create_session_factory
from bot.core.runtime import Runtime
from bot.core.uow import unit_of_work
from models import Release
from tests.conftest import POSTGRES_ENV, _empty_tables
from tests.tcp_proxy import FaultyProxy

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"needs PostgreSQL: set {POSTGRES_ENV}"
)

# The contract (SPEC "Faults"): how long each answer may take while the database is away.
READYZ_BOUND = 2.0
API_BOUND = 5.0
RELEASE = {"title": "Audit log", "channels": ["C0GENERAL"], "owner": "U0BOB"}


@pytest.fixture
async def database_url(postgres_database: str, proxy: FaultyProxy) -> str:
    """The scratch database, emptied, as the app reaches it: through the proxy."""
    await _empty_tables(postgres_database)
    through = make_url(postgres_database).set(host="127.0.0.1", port=proxy.port)
    return through.render_as_string(hide_password=False)


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def releases_stored(postgres_database: str) -> int:
    """Counted straight from PostgreSQL, past the proxy and the app."""
    engine = create_engine(postgres_database)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return int(await session.scalar(select(func.count()).select_from(Release)) or 0)
    finally:
        await engine.dispose()


async def assert_unavailable(http: httpx.AsyncClient, api: httpx.AsyncClient) -> None:
    """The admin API first, while the pool still holds the connections made before the fault."""
    for name, call in {
        "list": api.get("/api/v1/areas"),
        "write": api.post("/api/v1/areas", json={"name": "Billing"}),
    }.items():
        response, took = await timed(call)
        assert response.status_code == 503, (name, response.status_code, response.text)
        assert response.json() == {"error": "unavailable", "message": DATABASE_DOWN}
        assert response.headers["Retry-After"].isdigit()
        assert took < API_BOUND, (name, took)
    ready, took = await timed(http.get("/readyz"))
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    assert took < READYZ_BOUND, took


async def assert_serving(http: httpx.AsyncClient, api: httpx.AsyncClient) -> None:
    assert (await http.get("/readyz")).status_code == 200
    # Two at once, so that the pool holds more than one connection when a fault strikes.
    answers = await asyncio.gather(api.get("/api/v1/areas"), api.get("/api/v1/releases"))
    assert [a.status_code for a in answers] == [200, 200]


def cut_at(runtime: Runtime, prefix: str, fault: Callable[[], None]) -> list[str]:
    """Break the link (`fault`) just before the request's first statement starting with `prefix`."""
    cut: list[str] = []

    @event.listens_for(runtime.engine.sync_engine, "before_cursor_execute")
    def before(*args: Any) -> None:
        if not cut and str(args[2]).startswith(prefix):
            cut.append(str(args[2]))
            fault()

    return cut


async def assert_nothing_written(http: httpx.AsyncClient, api: httpx.AsyncClient, postgres_url: str) -> None:
    """Once the database is back, the release the failed request began is nowhere, and can be made."""
    await assert_serving(http, api)
    assert (await api.get("/api/v1/releases")).json()["items"] == []
    assert await releases_stored(postgres_url) == 0
    created = await api.post("/api/v1/releases", json=RELEASE)
    assert created.status_code == 201 and await releases_stored(postgres_url) == 1


async def test_refused_database_answers_503_promptly_and_recovers(
    http: httpx.AsyncClient, api: httpx.AsyncClient, proxy: FaultyProxy
) -> None:
    await assert_serving(http, api)
    await proxy.refuse()
    await assert_unavailable(http, api)
    await proxy.pass_through()
    await assert_serving(http, api)
    assert (await api.post("/api/v1/areas", json={"name": "Billing"})).status_code == 201


async def test_partitioned_database_answers_503_promptly_and_recovers(
    http: httpx.AsyncClient, api: httpx.AsyncClient, proxy: FaultyProxy
) -> None:
    await assert_serving(http, api)
    proxy.partition()
    await assert_unavailable(http, api)
    await proxy.pass_through()
    await assert_serving(http, api)
    assert (await api.post("/api/v1/areas", json={"name": "Billing"})).status_code == 201


async def test_partition_during_a_write_answers_503_within_5s_and_writes_nothing(
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    proxy: FaultyProxy,
    runtime: Runtime,
    postgres_database: str,
) -> None:
    await assert_serving(http, api)
    # The release row is inserted; then the network goes silent before its posts are.
    cut = cut_at(runtime, "INSERT INTO release_posts", proxy.partition)
    response, took = await timed(api.post("/api/v1/releases", json=RELEASE))
    assert cut, "the request never reached the statement the test cuts at"
    assert response.status_code == 503 and response.json()["message"] == DATABASE_DOWN
    assert took < API_BOUND, took
    await proxy.pass_through()
    await assert_nothing_written(http, api, postgres_database)


async def test_connection_reset_mid_transaction_answers_503_and_writes_nothing(
    http: httpx.AsyncClient,
    api: httpx.AsyncClient,
    proxy: FaultyProxy,
    runtime: Runtime,
    postgres_database: str,
) -> None:
    await assert_serving(http, api)
    # The proxy keeps accepting: only the connections open at that moment are reset.
    cut = cut_at(runtime, "INSERT INTO release_posts", proxy.reset)
    response, took = await timed(api.post("/api/v1/releases", json=RELEASE))
    assert cut, "the request never reached the statement the test cuts at"
    assert response.status_code == 503 and response.json()["message"] == DATABASE_DOWN
    assert took < API_BOUND, took
    await assert_nothing_written(http, api, postgres_database)
