"""Feedback queries at scale: a filtered page, full-text search and a 100,000-row CSV export.

Creates a scratch PostgreSQL database, applies the migrations, loads 1,000,000 feedback items
(asyncpg COPY, secondary indexes rebuilt after the load as a bulk import would), then times the
same service calls the admin API makes:

- a filtered page: `list_feedback` with area/kind/importance/customer/since combinations, first
  pages and keyset follow-up pages, 50 items each;
- full-text search: `list_feedback` with `q` (websearch syntax, GIN index), 50 items;
- the CSV export of 100,000 rows: the generator behind `GET /feedback.csv`, consumed to the end;
- the statistics behind `GET /stats` (every section) over its default eight weeks, and over a
  year for comparison; the data set has no launches, so their sections cost next to nothing.

    .venv/bin/python bench/feedback_queries.py
    .venv/bin/python bench/feedback_queries.py --rows 200000 --queries 100

The database is dropped at the end, also on failure. Targets: p95 under 100 ms for page and search,
under 200 ms for the eight-week statistics; the exit status is 0 when all are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text as sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.analytics import queries as stats_queries  # noqa: E402
from bot.analytics.window import Window, default_window  # noqa: E402
from bot.core import migrate  # noqa: E402
from bot.core.db import create_engine, create_session_factory  # noqa: E402
from bot.core.uow import unit_of_work  # noqa: E402
from bot.feedback import queries as feedback_queries  # noqa: E402
from bot.feedback.api import _csv_stream  # noqa: E402
from bot.feedback.schema import FeedbackFilters, KeysetPosition  # noqa: E402

TEAM = "T0BENCH"
OTHER_TEAM = "T0OTHER"
TARGET_MS = 100.0
STATS_TARGET_MS = 200.0
STATS_QUERIES = 100
CHUNK = 50_000
PAGE = 50
AREAS = 40
THEMES = 300
CUSTOMERS = 5_000
KINDS = ["bug", "request", "praise", "question", "other"]
KIND_WEIGHTS = [30, 40, 10, 15, 5]
IMPORTANCE = ["low", "medium", "high", "critical"]
IMPORTANCE_WEIGHTS = [25, 50, 22, 3]
STATUSES = ["new", "triaged", "shipped", "declined"]
COMMON = (
    "the customer wants to export report dashboard invoice billing search filter login sso user admin "
    "page slow error crash mobile app api integration csv pdf email notification permission role team "
    "workspace account plan upgrade sync calendar import data chart table column sort bulk settings"
).split()
RARE = (
    "reconciliation webhook saml scim idempotency throttling localization accessibility screenreader "
    "timezone daylight sandbox quarantine retention gdpr hipaa audit ledger escrow payout chargeback "
    "sharding failover latency backpressure pagination watermark thumbnail transcoding geofence"
).split()
FILLER = (
    "is are was it this that we our they when with for on in to of and but not very really please".split()
)


@dataclass
class Timing:
    name: str
    samples: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def line(self) -> str:
        return (
            f"{self.name:<28} n={len(self.samples):<5} p50={self.percentile(50):7.1f} ms  "
            f"p95={self.percentile(95):7.1f} ms  max={max(self.samples):7.1f} ms"
        )


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _text(rng: random.Random) -> str:
    words = rng.choices(COMMON, k=rng.randint(4, 14)) + rng.choices(FILLER, k=rng.randint(3, 12))
    if rng.random() < 0.08:
        words.append(rng.choice(RARE))
    rng.shuffle(words)
    return " ".join(words).capitalize()


def _records(
    count: int, *, seed: int, area_ids: list[int], theme_ids: list[int], start: datetime
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    span = (datetime.now(UTC) - start).total_seconds()
    for n in range(count):
        created = start + timedelta(seconds=span * (n / count) + rng.random())
        team = OTHER_TEAM if rng.random() < 0.1 else TEAM
        yield (
            team,
            _text(rng),
            rng.choices(KINDS, KIND_WEIGHTS)[0],
            rng.choices(IMPORTANCE, IMPORTANCE_WEIGHTS)[0],
            f"Customer {rng.randrange(CUSTOMERS):04d}" if rng.random() < 0.8 else None,
            rng.choice(["enterprise", "mid-market", "smb"]),
            rng.choice(area_ids) if rng.random() < 0.85 else None,
            json.dumps(rng.sample(["ux", "perf", "api", "mobile", "security"], k=rng.randint(0, 2))),
            rng.choice(theme_ids) if rng.random() < 0.3 else None,
            rng.choice(["shortcut", "reaction", "command", "api"]),
            f"C{rng.randrange(400):07d}",
            f"{1_600_000_000 + n}.{rng.randrange(1_000_000):06d}",
            f"U{rng.randrange(2000):07d}",
            f"U{rng.randrange(300):07d}",
            rng.choices(STATUSES, [60, 30, 7, 3])[0],
            created,
            created,
        )


COLUMNS = [
    "team_id",
    "text",
    "kind",
    "importance",
    "customer",
    "segment",
    "area_id",
    "tags",
    "theme_id",
    "source",
    "channel",
    "message_ts",
    "author",
    "reporter",
    "status",
    "created_at",
    "updated_at",
]


async def load(dsn: str, rows: int) -> tuple[list[str], float]:
    """Areas, themes and `rows` feedback items; returns area slugs and seconds spent."""
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        area_ids = []
        slugs = []
        for n in range(AREAS):
            slug = f"area-{n:02d}"
            area_ids.append(
                await connection.fetchval(
                    """INSERT INTO areas (team_id, slug, name, aliases, kind, description, backups, links,
                       tags, source, confirm_every_days, owner_status, created_at, updated_at, owner)
                       VALUES ($1, $2, $3, '[]', 'product_area', '', '[]', '[]', '[]', 'bench', 90,
                       'active', $4, $4, $5) RETURNING id""",
                    TEAM,
                    slug,
                    f"Area {n}",
                    now,
                    f"U{n:07d}",
                )
            )
            slugs.append(slug)
        theme_ids = [
            await connection.fetchval(
                """INSERT INTO themes (team_id, title, description, status, created_at, updated_at)
                   VALUES ($1, $2, '', 'open', $3, $3) RETURNING id""",
                TEAM,
                f"Theme {n}",
                now,
            )
            for n in range(THEMES)
        ]
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'feedback'"
            " AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        source = _records(
            rows, seed=7, area_ids=area_ids, theme_ids=theme_ids, start=now - timedelta(days=730)
        )
        loaded = 0
        while loaded < rows:
            batch = [record for _, record in zip(range(CHUNK), source, strict=False)]
            await connection.copy_records_to_table("feedback", records=batch, columns=COLUMNS)
            loaded += len(batch)
            print(f"  loaded {loaded:,} items ({time.perf_counter() - started:.0f} s)", flush=True)
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return slugs, time.perf_counter() - started


async def timed(
    name: str,
    runs: int,
    query: Callable[[int], Awaitable[Any]],
    after_warmup: Callable[[], None] = lambda: None,
) -> Timing:
    for n in range(min(5, runs)):  # warm-up: connections, plans, caches
        await query(n)
    after_warmup()
    samples = []
    for n in range(runs):
        started = time.perf_counter()
        await query(n)
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(name, samples)


async def time_stats(factory: Any, queries: int) -> Timing:
    """The whole `/stats` answer over eight weeks and over a year, and its two heavy sections alone."""
    now = datetime.now(UTC)
    eight_weeks = default_window(today=now.date())
    year = Window(since=now.date() - timedelta(days=364), until=now.date())
    runs = min(queries, STATS_QUERIES)

    def section(query: Any, window: Window) -> Callable[[int], Awaitable[Any]]:
        async def measured(_n: int) -> None:
            async with unit_of_work(factory) as session:
                await query(session=session, team_id=TEAM, since=window.since, until=window.until, now=now)

        return measured

    whole = await timed("stats, 8 weeks (all)", runs, section(stats_queries.stats_report, eight_weeks))
    print(whole.line())
    for name, query, window in (
        ("  feedback section", stats_queries.feedback_stats, eight_weeks),
        ("  themes section", stats_queries.theme_stats, eight_weeks),
        ("stats, 1 year (all)", stats_queries.stats_report, year),
    ):
        print((await timed(name, max(1, runs // 4), section(query, window))).line())
    return whole


async def run(admin_url: str, rows: int, queries: int) -> int:
    name = f"switchboard_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_admin_dsn(admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(url)
    try:
        await migrate.upgrade_async(url)
        print(f"Loading {rows:,} feedback items into {name} …")
        slugs, seconds = await load(_admin_dsn(url), rows)
        print(f"Loaded in {seconds:.1f} s (COPY, then index builds and ANALYZE)\n")
        factory = create_session_factory(engine)
        rng = random.Random(11)
        since = datetime.now(UTC) - timedelta(days=90)

        def page_filters(n: int) -> FeedbackFilters:
            shape = n % 5
            if shape == 0:
                return FeedbackFilters(area=rng.choice(slugs))
            if shape == 1:
                return FeedbackFilters(area=rng.choice(slugs), kind=rng.choice(KINDS))
            if shape == 2:
                return FeedbackFilters(importance="critical", since=since)
            if shape == 3:
                return FeedbackFilters(customer=f"Customer {rng.randrange(CUSTOMERS):04d}")
            return FeedbackFilters(kind=rng.choice(KINDS), status="new")

        async def filtered_page(n: int) -> None:
            async with unit_of_work(factory) as session:
                filters = page_filters(n)
                first = await feedback_queries.list_feedback(
                    session=session, team_id=TEAM, filters=filters, limit=PAGE + 1
                )
                if n % 2 and len(first) > PAGE:
                    last = first[PAGE - 1].feedback
                    await feedback_queries.list_feedback(
                        session=session,
                        team_id=TEAM,
                        filters=filters,
                        after=KeysetPosition(created_at=last.created_at, id=last.id),
                        limit=PAGE + 1,
                    )

        searches: list[tuple[str, str]] = [
            *(("rare word", word) for word in RARE),
            *(("common word", word) for word in COMMON[:12]),
            *(("common + rare words", f"{rng.choice(COMMON)} {rng.choice(RARE)}") for _ in range(12)),
            *(("phrase", f'"{a} {b}"') for a, b in zip(COMMON[:6], COMMON[10:16], strict=True)),
            ("operators", "export -csv"),
            ("operators", "sso OR saml"),
            ("operators", "dashboard -slow"),
        ]
        by_shape: dict[str, list[float]] = {}

        async def search(n: int) -> None:
            shape, q = searches[n % len(searches)]
            started = time.perf_counter()
            async with unit_of_work(factory) as session:
                await feedback_queries.list_feedback(
                    session=session,
                    team_id=TEAM,
                    filters=FeedbackFilters(q=q, area=rng.choice(slugs) if n % 7 == 0 else None),
                    limit=PAGE + 1,
                )
            by_shape.setdefault(shape, []).append((time.perf_counter() - started) * 1000)

        page = await timed("filtered page (50 items)", queries, filtered_page)
        print(page.line())
        text = await timed("full-text search (50 items)", queries, search, by_shape.clear)
        print(text.line())
        for shape, samples in by_shape.items():
            print("  " + Timing(shape, samples).line())

        stats_timing = await time_stats(factory, queries)

        export_rows = min(100_000, rows // 2)
        async with engine.connect() as connection:
            boundary = (
                await connection.execute(
                    sql(
                        "SELECT created_at FROM feedback WHERE team_id = :team "
                        "ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
                    ),
                    {"team": TEAM, "n": export_rows - 1},
                )
            ).scalar_one()

        class _Runtime:
            session_factory = factory

        started = time.perf_counter()
        lines = 0
        size = 0
        async for chunk in _csv_stream(_Runtime(), TEAM, FeedbackFilters(since=boundary)):  # type: ignore[arg-type]
            size += len(chunk)
            lines += chunk.count("\r\n")
        export_seconds = time.perf_counter() - started
        print(
            f"{'CSV export':<28} rows={lines - 1:,}  {size / 1e6:.1f} MB  in {export_seconds:.2f} s "
            f"({(lines - 1) / export_seconds:,.0f} rows/s)"
        )
        ok = page.percentile(95) < TARGET_MS and text.percentile(95) < TARGET_MS
        print(f"\nTarget p95 < {TARGET_MS:.0f} ms for page and search: {'met' if ok else 'NOT met'}")
        stats_ok = stats_timing.percentile(95) < STATS_TARGET_MS
        print(f"Target p95 < {STATS_TARGET_MS:.0f} ms for 8-week stats: {'met' if stats_ok else 'NOT met'}")
        return 0 if ok and stats_ok else 1
    finally:
        await engine.dispose()
        admin = await asyncpg.connect(_admin_dsn(admin_url))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        print(f"Dropped {name}.")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SWITCHBOARD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="An existing database on the server to create the scratch database from.",
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300, help="Timed runs per query kind.")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.postgres, args.rows, args.queries)))


if __name__ == "__main__":
    main()
